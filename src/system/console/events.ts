import type { ServerResponse } from 'node:http';
import { statusSnapshot } from './snapshot';
import type { ConsoleTarget } from './target';

/**
 * The Server-Sent Events streams of one console: while any client listens, the status is read
 * every `intervalMs` (once for all of them, never two reads at a time) and sent to each as an
 * event `status` (or `status-error` when it could not be read).
 */
export class StatusStreams {
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** The newest event, sent at once to a client that joins. */
  #last: string | undefined;

  constructor(
    private readonly target: ConsoleTarget,
    private readonly intervalMs: number,
  ) {}

  get clients(): number {
    return this.#clients.size;
  }

  add(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write(`retry: 1000\n\n${this.#last ?? ''}`);
    this.#clients.add(response);
    response.on('close', () => this.#clients.delete(response));
    if (this.#timer === undefined) this.schedule(0);
  }

  /** Ends every stream (the page's EventSource then reconnects to whatever listens next). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }

  private schedule(delayMs: number): void {
    this.#timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    let event: string;
    try {
      event = `event: status\ndata: ${JSON.stringify(statusSnapshot(await this.target.status(), Date.now()))}\n\n`;
    } catch (error) {
      event = `event: status-error\ndata: ${JSON.stringify({ at: Date.now(), error: (error as Error).message })}\n\n`;
    }
    if (this.#closed) return;
    this.#last = event;
    for (const client of this.#clients) client.write(event);
    if (this.#clients.size > 0) this.schedule(this.intervalMs);
    else this.#timer = undefined;
  }
}
