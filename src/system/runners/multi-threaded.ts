import { RunnerError } from '../errors';
import type { Follower } from '../follower';
import { Edge, Runner, RunnerOptions, sleep } from './runner';

export interface MultiThreadedRunnerOptions extends RunnerOptions {
  /** How often each follower pulls without being prompted, so a lost prompt only delays (default 1000). */
  pollIntervalMs?: number;
  /** First delay before retrying after a failure, doubled up to `maxRetryDelayMs` (default 50). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/**
 * One follower's processing loop: it pulls when prompted, when the poll timer fires, or to retry.
 *
 * Prompts are coalesced: a prompt wakes the loop on the event loop's next turn (setImmediate), so
 * the notifications recorded meanwhile are processed together, in transactions of up to the
 * follower's batch size; and once a batch's worth has been prompted, at once, so a caller that
 * records in a loop that never yields to the event loop is still followed closely.
 */
class FollowerWorker {
  readonly #wanted = new Set<string>();
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
    private readonly options: Required<Pick<MultiThreadedRunnerOptions, 'pollIntervalMs' | 'retryDelayMs' | 'maxRetryDelayMs'>>,
    private readonly report: WorkerReport,
  ) {
    for (const edge of edges) this.#wanted.add(key(edge.upstreamName, edge.pipelineId));
    this.done = this.loop();
  }

  get idle(): boolean {
    return !this.#busy && this.#wanted.size === 0;
  }

  prompt(upstreamName: string, pipelineId: number, notifications: number): void {
    this.#wanted.add(key(upstreamName, pipelineId));
    this.#prompted += notifications;
    if (this.#prompted >= this.follower.batchSize) this.wakeNow();
    else this.#immediate ??= setImmediate(this.wakeNow);
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
      for (const item of wanted) {
        const [pipelineId, upstreamName] = parse(item);
        this.report.running(pipelineId, true);
        try {
          await this.follower.pullAndProcess(upstreamName, { pipelineId, signal: this.#stopping.signal });
          this.report.running(pipelineId, false);
        } catch (error) {
          failed = true;
          this.report.failed(pipelineId, error);
          this.#wanted.add(item);
        }
      }
      this.#busy = false;
      if (failed) {
        this.#failures += 1;
        await this.sleep(Math.min(this.options.retryDelayMs * 2 ** (this.#failures - 1), this.options.maxRetryDelayMs), false);
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
        if (polled && wakeable) for (const edge of this.edges) this.#wanted.add(key(edge.upstreamName, edge.pipelineId));
        resolve();
      };
      this.#timer = setTimeout(() => finish(true), ms);
      this.#wake = () => {
        if (wakeable || !this.running) finish(false);
      };
    });
  }
}

/** How a worker tells the runner what its follower is doing, for status(). */
interface WorkerReport {
  running(pipelineId: number, running: boolean): void;
  /** A run failed; the worker retries it after a backoff. */
  failed(pipelineId: number, error: unknown): void;
}

const key = (upstreamName: string, pipelineId: number) => `${pipelineId}:${upstreamName}`;
const parse = (item: string): [number, string] => {
  const colon = item.indexOf(':');
  return [Number(item.slice(0, colon)), item.slice(colon + 1)];
};

/**
 * Every follower processes concurrently and independently, in its own loop; commands return as
 * soon as their own events are recorded. `waitUntilIdle()` resolves once every follower has caught
 * up; processing errors are kept in `errors`, shown by `status()` and warned of on stderr, and
 * reject `waitUntilIdle()` and `stop()`.
 */
export class MultiThreadedRunner extends Runner {
  readonly #workers = new Map<string, FollowerWorker>();
  readonly #unsubscribes: Array<() => void> = [];

  constructor(
    system: ConstructorParameters<typeof Runner>[0],
    readonly runnerOptions: MultiThreadedRunnerOptions = {},
  ) {
    super(system, runnerOptions);
  }

  protected async startRunning(): Promise<void> {
    const options = {
      pollIntervalMs: this.runnerOptions.pollIntervalMs ?? 1000,
      retryDelayMs: this.runnerOptions.retryDelayMs ?? 50,
      maxRetryDelayMs: this.runnerOptions.maxRetryDelayMs ?? 5000,
    };
    const edges = this.edges();
    for (const name of this.system.followers) {
      const follower = this.application(name) as Follower;
      const own = edges.filter((edge) => edge.follower === follower);
      const report: WorkerReport = {
        running: (pipelineId, running) => this.processRunning(follower, pipelineId, running),
        failed: (pipelineId, error) => this.processFailed(follower, pipelineId, error, true),
      };
      this.#workers.set(name, new FollowerWorker(follower, own, options, report));
    }
    for (const leaderName of this.system.leaders) {
      const followers = this.system.leadsOf(leaderName).map((name) => this.#workers.get(name)!);
      this.#unsubscribes.push(
        this.application(leaderName).onRecorded((recordings, pipelineId) => {
          for (const worker of followers) worker.prompt(leaderName, pipelineId, recordings.length);
        }),
      );
    }
  }

  protected async stopRunning(): Promise<void> {
    for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
    await Promise.all([...this.#workers.values()].map((worker) => worker.stop()));
  }

  /**
   * Resolves when every follower has processed everything its upstreams show, including what that
   * processing produced; rejects with a processing error not yet reported, or on timeout naming
   * the applications that lag.
   */
  async waitUntilIdle(timeoutMs = 60_000): Promise<void> {
    if (!this.isRunning) throw new RunnerError('the runner is not running');
    const edges = this.edges();
    const deadline = Date.now() + timeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      this.throwUnreportedErrors();
      if (this.allIdle()) {
        const lagging = await this.laggingEdges(edges);
        this.throwUnreportedErrors();
        if (lagging.length === 0 && this.allIdle()) return;
        if (Date.now() > deadline) {
          throw new RunnerError(`waitUntilIdle timed out after ${timeoutMs} ms: ${lagging.join('; ')}`);
        }
      } else if (Date.now() > deadline) {
        const busy = [...this.#workers].filter(([, worker]) => !worker.idle).map(([name]) => name);
        throw new RunnerError(`waitUntilIdle timed out after ${timeoutMs} ms: still processing: ${busy.join(', ')}`);
      }
      await sleep(wait);
    }
  }

  private allIdle(): boolean {
    for (const worker of this.#workers.values()) if (!worker.idle) return false;
    return true;
  }
}
