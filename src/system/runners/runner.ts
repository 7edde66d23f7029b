import { applicationNameOf, type Application, type EnvType } from '../../application';
import { RunnerError } from '../errors';
import { Follower } from '../follower';
import { ApplicationClass, System } from '../system';
import { FailureWarnings } from './failure-warnings';
import { describeFailure, processStatus, type ProcessActivity, type ProcessState, type RunnerStatus } from './status';

export interface RunnerOptions {
  /** Settings for every application, overlaid on the process environment. */
  env?: EnvType;
}

/** One follower's view of one upstream log in one pipeline. */
export interface Edge {
  readonly follower: Follower;
  readonly upstreamName: string;
  readonly pipelineId: number;
}

/** What a runner that processes in its own loops knows of one process (a follower in one pipeline). */
class ProcessRecord implements ProcessActivity {
  state: ProcessState = 'idle';
  restarts = 0;
  lastError: ProcessActivity['lastError'];

  constructor(
    readonly follower: Follower,
    readonly pipelineId: number,
  ) {}

  get applicationName(): string {
    return this.follower.name;
  }

  snapshot(): ProcessActivity {
    const { applicationName, pipelineId, state, restarts, lastError } = this;
    return lastError === undefined ? { applicationName, pipelineId, state, restarts } : { applicationName, pipelineId, state, restarts, lastError };
  }
}

/**
 * Brings a system to life: makes its applications, wires each follower to the logs it follows, and
 * decides when followers pull (the subclasses). All runners share `start`, `get` and `stop`.
 */
export abstract class Runner {
  readonly #apps = new Map<string, Application>();
  #state: 'new' | 'started' | 'stopped' = 'new';
  /** Errors that processing raised (policies that threw), oldest first. */
  readonly errors: Error[] = [];
  #reported = 0;
  readonly #processes = new Map<string, ProcessRecord>();
  /** Processing failures also go to stderr, at most once every few seconds per process. */
  protected readonly failureWarnings = new FailureWarnings();

  constructor(
    readonly system: System,
    readonly options: RunnerOptions = {},
  ) {
    if (!(system instanceof System)) throw new RunnerError('a runner needs a System');
  }

  get isRunning(): boolean {
    return this.#state === 'started';
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new RunnerError(`this runner was already ${this.#state}: make a new one`);
    this.#state = 'started';
    try {
      for (const name of this.system.applicationNames) {
        const cls = this.system.classOf(name);
        this.#apps.set(name, new cls({ env: this.options.env }));
      }
      for (const name of this.system.followers) {
        const follower = this.#apps.get(name) as Follower;
        for (const upstreamName of this.system.followsOf(name)) {
          const upstream = this.#apps.get(upstreamName)!;
          follower.follow(upstreamName, upstream.recorder, upstream.mapper);
        }
      }
      for (const name of this.system.followers) this.processRecord(this.#apps.get(name) as Follower, 0);
      await this.startRunning();
    } catch (error) {
      await this.closeApplications();
      this.#state = 'stopped';
      throw error;
    }
  }

  /** The running instance of an application class of the system. */
  get<A extends Application>(cls: ApplicationClass<A>): A {
    if (this.#state !== 'started') throw new RunnerError(`the runner is ${this.#state === 'new' ? 'not started' : 'stopped'}`);
    const name = applicationNameOf(cls);
    const app = this.#apps.get(name);
    if (app === undefined || !this.system.has(cls)) {
      throw new RunnerError(`${cls?.name ?? String(cls)} is not an application of this system`);
    }
    return app as A;
  }

  /** Stops processing, closes every application, then rejects if processing failed unreported. */
  async stop(): Promise<void> {
    if (this.#state !== 'started') return;
    this.#state = 'stopped';
    try {
      await this.stopRunning();
    } finally {
      await this.closeApplications();
    }
    this.throwUnreportedErrors();
  }

  protected abstract startRunning(): Promise<void>;
  protected abstract stopRunning(): Promise<void>;

  /**
   * Every process application of the runner: its state, restarts and last error, and for each
   * upstream the tracking position, the upstream's head and the lag.
   */
  async status(): Promise<RunnerStatus> {
    if (!this.isRunning) throw new RunnerError('the runner is not running');
    const processes = await Promise.all(
      [...this.#processes.values()].map((record) => processStatus(record.snapshot(), record.follower)),
    );
    const pipelineIds = [...new Set(processes.map((process) => process.pipelineId))];
    return {
      pipelines: (pipelineIds.length === 0 ? [0] : pipelineIds).map((pipelineId) => ({
        pipelineId,
        processes: processes.filter((process) => process.pipelineId === pipelineId),
      })),
    };
  }

  /** Marks a process as processing (or not) for status(). */
  protected processRunning(follower: Follower, pipelineId: number, running: boolean): void {
    const record = this.processRecord(follower, pipelineId);
    if (record.state !== 'failed' || running) record.state = running ? 'running' : 'idle';
  }

  /**
   * A process failed: the error goes to `errors`, to status() and to stderr. `retrying` says the
   * runner will try again by itself (the process is then backing off).
   */
  protected processFailed(follower: Follower, pipelineId: number, error: unknown, retrying: boolean): void {
    this.recordError(error);
    const record = this.processRecord(follower, pipelineId);
    record.lastError = describeFailure(error, pipelineId, Date.now());
    if (retrying) {
      record.restarts += 1;
      record.state = 'backing-off';
    } else {
      record.state = 'idle';
    }
    this.failureWarnings.failed(follower.name, pipelineId, error);
  }

  private processRecord(follower: Follower, pipelineId: number): ProcessRecord {
    const key = `${pipelineId}:${follower.name}`;
    let record = this.#processes.get(key);
    if (record === undefined) {
      record = new ProcessRecord(follower, pipelineId);
      this.#processes.set(key, record);
    }
    return record;
  }

  protected application(name: string): Application {
    return this.#apps.get(name)!;
  }

  /** Every (follower, upstream, pipeline) the runner processes. */
  protected edges(pipelineIds: readonly number[] = [0]): Edge[] {
    const edges: Edge[] = [];
    for (const name of this.system.followers) {
      const follower = this.#apps.get(name) as Follower;
      for (const upstreamName of this.system.followsOf(name)) {
        for (const pipelineId of pipelineIds) edges.push({ follower, upstreamName, pipelineId });
      }
    }
    return edges;
  }

  protected recordError(error: unknown): void {
    this.errors.push(error instanceof Error ? error : new Error(String(error)));
  }

  /**
   * The first error recorded at or after `index` (undefined if none): the caller reports it, so
   * it and every error before it count as reported.
   */
  protected reportErrorsSince(index: number): Error | undefined {
    if (this.errors.length <= index) return undefined;
    this.#reported = Math.max(this.#reported, this.errors.length);
    return this.errors[index];
  }

  /** Throws the oldest error not yet reported by a previous call. */
  protected throwUnreportedErrors(): void {
    if (this.#reported < this.errors.length) {
      const error = this.errors[this.#reported];
      this.#reported = this.errors.length;
      throw error;
    }
  }

  /** Names the edges whose follower has not yet processed everything its upstream shows. */
  protected async laggingEdges(edges: readonly Edge[]): Promise<string[]> {
    const lagging: string[] = [];
    for (const edge of edges) {
      const upstream = edge.follower.upstreamRecorder(edge.upstreamName);
      const [head, position] = await Promise.all([
        upstream.maxNotificationId(edge.pipelineId),
        edge.follower.trackingPosition(edge.upstreamName, edge.pipelineId),
      ]);
      if (position !== head) {
        lagging.push(
          `${edge.follower.name} has processed notification ${position} of ${edge.upstreamName}` +
            `${edge.pipelineId ? ` (pipeline ${edge.pipelineId})` : ''}, which is at ${head}`,
        );
      }
    }
    return lagging;
  }

  private async closeApplications(): Promise<void> {
    await Promise.allSettled([...this.#apps.values()].map((app) => app.close()));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
