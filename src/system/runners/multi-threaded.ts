import type { Follower } from '../follower';
import type { Edge, Prompt } from './edge';
import { Runner, RunnerOptions } from './runner';

export interface MultiThreadedRunnerOptions extends RunnerOptions {
  /** How often each follower pulls without being prompted, so a lost prompt only delays (default 1000). */
  pollIntervalMs?: number;
  /** First delay before retrying after a failure, doubled up to `maxRetryDelayMs` (default 50). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

type WorkerOptions = Required<Pick<MultiThreadedRunnerOptions, 'pollIntervalMs' | 'retryDelayMs' | 'maxRetryDelayMs'>>;

/** How a worker tells the runner what its follower is doing. */
interface WorkerReport {
  running(edge: Edge, running: boolean): void;
  /** A run failed; the worker retries it after a backoff. */
  failed(edge: Edge, error: unknown): void;
  /** After failures, the loop waits `delayMs` before it tries again (its `attempt`th try in a row). */
  retrying(follower: Follower, attempt: number, delayMs: number): void;
}

/**
 * One follower's processing loop, over its edges in every pipeline: it pulls when prompted, when
 * the poll timer fires, or to retry.
 *
 * Prompts are coalesced: a prompt wakes the loop on the event loop's next turn (setImmediate), so
 * the notifications recorded meanwhile are processed together, in transactions of up to the
 * follower's batch size; and once a batch's worth has been prompted, at once, so a caller that
 * records in a loop that never yields to the event loop is still followed closely.
 */
class FollowerWorker {
  readonly #wanted: Set<Edge>;
  /** The newest notification prompted for each edge since it was last pulled: the pull must see it. */
  readonly #waitFor = new Map<Edge, number>();
  /** Notifications prompted since the loop last woke. */
  #prompted = 0;
  #immediate: NodeJS.Immediate | undefined;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Aborted by stop: the loop ends, and a run in flight ends after its current batch. */
  readonly #stopping = new AbortController();
  #busy = false;
  #failures = 0;
  readonly done: Promise<void>;

  constructor(
    readonly follower: Follower,
    readonly edges: readonly Edge[],
    private readonly options: WorkerOptions,
    private readonly report: WorkerReport,
  ) {
    this.#wanted = new Set(edges); // catch up with whatever was recorded while nothing ran
    this.done = this.loop();
  }

  get idle(): boolean {
    return !this.#busy && this.#wanted.size === 0;
  }

  prompt(edge: Edge, notifications: number, lastNotificationId: number): void {
    this.#wanted.add(edge);
    this.#waitFor.set(edge, Math.max(this.#waitFor.get(edge) ?? 0, lastNotificationId));
    this.#prompted += notifications;
    if (this.#prompted >= this.follower.batchSize) this.wakeNow();
    else this.#immediate ??= setImmediate(this.wakeNow);
  }

  /** Looks at every edge now (a nudge). */
  pollNow(): void {
    for (const edge of this.edges) this.#wanted.add(edge);
    this.#immediate ??= setImmediate(this.wakeNow);
  }

  stop(): Promise<void> {
    this.#stopping.abort();
    this.wakeNow();
    return this.done;
  }

  private readonly wakeNow = (): void => {
    clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.#prompted = 0;
    this.#wake?.();
  };

  private get running(): boolean {
    return !this.#stopping.signal.aborted;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      // Prompted, but not yet woken: let more prompts come (see prompt).
      if (this.#wanted.size === 0 || this.#immediate !== undefined) await this.sleep(this.options.pollIntervalMs, true);
      if (!this.running) break;
      const wanted = [...this.#wanted];
      this.#wanted.clear();
      this.#busy = true;
      let failed = false;
      for (const edge of wanted) {
        const waitFor = this.#waitFor.get(edge);
        this.#waitFor.delete(edge);
        this.report.running(edge, true);
        try {
          await this.follower.pullAndProcess(edge.upstreamName, { pipelineId: edge.pipelineId, signal: this.#stopping.signal, waitFor });
          this.report.running(edge, false);
        } catch (error) {
          failed = true;
          this.report.failed(edge, error);
          this.#wanted.add(edge);
        }
      }
      this.#busy = false;
      if (failed) {
        this.#failures += 1;
        const delayMs = Math.min(this.options.retryDelayMs * 2 ** (this.#failures - 1), this.options.maxRetryDelayMs);
        this.report.retrying(this.follower, this.#failures, delayMs);
        await this.sleep(delayMs, false);
      } else {
        this.#failures = 0;
      }
    }
  }

  /** Waits `ms` (or until prompted, when `wakeable`); a poll that times out wants every edge. */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const finish = (polled: boolean) => {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#wake = undefined;
        if (polled && wakeable) for (const edge of this.edges) this.#wanted.add(edge);
        resolve();
      };
      this.#timer = setTimeout(() => finish(true), ms);
      this.#wake = () => {
        if (wakeable || !this.running) finish(false);
      };
    });
  }
}

/**
 * Every follower processes concurrently and independently, in a loop of its own (on the one event
 * loop of the process: concurrent, not parallel); commands return as soon as their own events are
 * recorded. Processing errors are kept in `errors`, shown by `status()` and warned of on stderr,
 * and reject `waitUntilIdle()` and `stop()`.
 */
export class MultiThreadedRunner extends Runner {
  readonly #workers = new Map<Follower, FollowerWorker>();

  constructor(
    system: ConstructorParameters<typeof Runner>[0],
    readonly runnerOptions: MultiThreadedRunnerOptions = {},
  ) {
    super(system, runnerOptions);
  }

  protected async startScheduling(): Promise<void> {
    const options: WorkerOptions = {
      pollIntervalMs: this.runnerOptions.pollIntervalMs ?? 1000,
      retryDelayMs: this.runnerOptions.retryDelayMs ?? 50,
      maxRetryDelayMs: this.runnerOptions.maxRetryDelayMs ?? 5000,
    };
    const report: WorkerReport = {
      running: (edge, running) => this.processRunning(edge.follower, edge.pipelineId, running),
      failed: (edge, error) => this.processFailed(edge.follower, edge.pipelineId, error, true),
      retrying: (follower, attempt, delayMs) => this.processRetrying(follower, follower.pipelineId, attempt, delayMs),
    };
    const byFollower = new Map<Follower, Edge[]>();
    for (const edge of this.edges) byFollower.set(edge.follower, [...(byFollower.get(edge.follower) ?? []), edge]);
    for (const [follower, edges] of byFollower) this.#workers.set(follower, new FollowerWorker(follower, edges, options, report));
  }

  protected async stopScheduling(): Promise<void> {
    await Promise.all([...this.#workers.values()].map((worker) => worker.stop()));
  }

  protected prompted(prompt: Prompt): void {
    for (const edge of prompt.edges) this.#workers.get(edge.follower)?.prompt(edge, prompt.count, prompt.lastNotificationId);
  }

  protected nudge(): void {
    for (const worker of this.#workers.values()) worker.pollNow();
  }

  protected override waitingWork(): string | undefined {
    const busy = [...this.#workers.values()].filter((worker) => !worker.idle).map((worker) => worker.follower.name);
    return busy.length === 0 ? undefined : `still processing: ${[...new Set(busy)].join(', ')}`;
  }
}
