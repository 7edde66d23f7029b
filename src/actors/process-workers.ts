import type { ResolvedWorkerOptions, System, WorkerSettings } from '../system';
import { WorkerSlave, workerInit, type WorkerEvents } from '../system';

/**
 * The worker processes (or threads) of an ActorRunner whose slaves run out of process: how each
 * is made, and every one alive, so that the runner can wait for them to start and to exit.
 */
export class ProcessWorkers {
  readonly #live = new Set<WorkerSlave>();
  /** Whether each worker spawned so far became ready, in the order they were spawned. */
  readonly #readies: Array<Promise<void>> = [];
  readonly #waiting: Array<{ count: number; resolve(): void }> = [];

  constructor(
    private readonly system: System,
    private readonly options: ResolvedWorkerOptions,
    private readonly env: Readonly<Record<string, string | undefined>> | undefined,
  ) {}

  /** A new worker for `followerName` in `pipelineId`, telling `events` what it does. */
  spawn(followerName: string, pipelineId: number, events: WorkerEvents): WorkerSlave {
    const settings: WorkerSettings = { ...this.options, init: workerInit(this.system, this.options.systemModule, followerName, pipelineId, this.env) };
    const slave = new WorkerSlave(settings, events);
    this.#live.add(slave);
    void slave.exited.then(() => this.#live.delete(slave));
    this.#readies.push(slave.ready);
    for (const waiting of this.#waiting.filter((entry) => entry.count <= this.#readies.length)) {
      this.#waiting.splice(this.#waiting.indexOf(waiting), 1);
      waiting.resolve();
    }
    return slave;
  }

  /** Resolves once `count` workers have been spawned and each of those is ready; rejects with why one could not start. */
  async started(count: number): Promise<void> {
    if (this.#readies.length < count) await new Promise<void>((resolve) => this.#waiting.push({ count, resolve }));
    await Promise.all(this.#readies.slice(0, count));
  }

  /** Stops every worker still alive (each finishes its batch; killed after the grace period). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#live].map((slave) => slave.stop()));
  }
}
