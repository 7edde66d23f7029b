import { applicationNameOf, type Application, type EnvType } from '../../application';
import { RunnerError } from '../errors';
import { Follower } from '../follower';
import { ApplicationClass, System } from '../system';

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
