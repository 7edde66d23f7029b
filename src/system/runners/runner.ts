import { setTimeout as delay } from 'node:timers/promises';
import { applicationNameOf, type Application, type EnvType, type Recording } from '../../application';
import { RunnerError } from '../errors';
import type { Follower } from '../follower';
import type { SupervisionOptions } from '../supervision';
import { ApplicationClass, System } from '../system';
import { checkLogger, type Logger } from '../../observability/logger';
import { processObserver, type ProcessObserver } from '../supervision/observer';
import type { Edge, Prompt } from './edge';
import { FailureWarnings } from './failure-warnings';
import { RunnerTelemetry } from './telemetry';
import { describeFailure, processStatus, type ProcessActivity, type ProcessState, type RunnerStatus } from './status';
import { startConsole, type ConsoleOptions, type ConsoleServer, type ConsoleTarget } from '../console';

export interface RunnerOptions {
  /** Settings for every application, overlaid on the process environment. */
  env?: EnvType;
  /** The pipelines this runner runs (default [0]); others may run elsewhere over the same store. */
  pipelineIds?: readonly number[];
  /**
   * Where the runner and its applications log (any object with pino's error, warn, info and
   * debug): processes that fail, back off, restart or are skipped, workers that start and end,
   * slow batches, conflicts retried. Default: warnings and errors to stderr, info and debug quiet.
   */
  logger?: Logger;
}

/** Which notification a skip is of: by default, the one the process failed on. */
export interface SkipOptions {
  /** The pipeline of the process (default: the runner's first). */
  pipelineId?: number;
  /**
   * The notification the caller saw the process fail on, and its upstream: when the process
   * failed on (or is next to process) another one, nothing is skipped and it rejects (SkipError).
   */
  upstreamName?: string;
  notificationId?: number;
}

/** What a runner that schedules processing itself knows of one process (a follower in one pipeline). */
class ProcessRecord implements ProcessActivity {
  state: ProcessState = 'idle';
  restarts = 0;
  runs = 0;
  pending = false;
  lastError: ProcessActivity['lastError'];

  constructor(
    readonly follower: Follower,
    readonly pipelineId: number,
  ) {}

  get applicationName(): string {
    return this.follower.name;
  }

  snapshot(): ProcessActivity {
    const { applicationName, pipelineId, state, restarts, runs, pending, lastError } = this;
    const activity = { applicationName, pipelineId, state, restarts, runs, pending };
    return lastError === undefined ? activity : { ...activity, lastError };
  }
}

/**
 * The engine every runner stands on. It makes the system's applications, one instance per pipeline
 * the runner runs, each recording in its pipeline; wires each follower to the logs it follows in its
 * pipeline; turns every recording of a leader into one Prompt for the edges that follow it; keeps
 * one list of errors; and gives every runner the same `start`, `get`, `status`, `waitUntilIdle` and
 * `stop`. A runner supplies only its scheduling: when followers pull (inline, in loops of their own,
 * to a clock, in actors): startScheduling, prompted, nudge and stopScheduling, and, where it keeps
 * what it knows of its processes elsewhere, activities.
 */
export abstract class Runner {
  readonly pipelineIds: readonly number[];
  /** Errors that processing raised (policies that threw), oldest first. */
  readonly errors: Error[] = [];
  readonly logger: Logger;
  /** Processing failures are also warnings (on stderr by default), at most once every few seconds per process. */
  protected readonly failureWarnings: FailureWarnings;
  /** Restarts and lags as metrics, when @opentelemetry/api is installed. */
  readonly #telemetry: RunnerTelemetry | undefined;
  #state: 'new' | 'started' | 'stopped' = 'new';
  #reported = 0;
  /** Each pipeline's applications, by pipeline id, then by name. */
  readonly #pipelines = new Map<number, Map<string, Application>>();
  #edges: readonly Edge[] = [];
  /** By follower instance: each is of one pipeline. */
  readonly #processes = new Map<Follower, ProcessRecord>();
  readonly #unsubscribes: Array<() => void> = [];
  /** Consoles serving this runner: closed when it stops. */
  readonly #consoles = new Set<ConsoleServer>();

  constructor(
    readonly system: System,
    readonly options: RunnerOptions = {},
  ) {
    if (!(system instanceof System)) throw new RunnerError('a runner needs a System');
    this.pipelineIds = checkPipelineIds(options.pipelineIds);
    this.logger = checkLogger(options.logger, 'a runner');
    this.failureWarnings = new FailureWarnings(this.logger);
    this.#telemetry = RunnerTelemetry.make();
  }

  get isRunning(): boolean {
    return this.#state === 'started';
  }

  /** Every (follower, upstream, pipeline) the runner runs. */
  get edges(): readonly Edge[] {
    return this.#edges;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new RunnerError(`this runner was already ${this.#state}: make a new one`);
    this.#state = 'started';
    try {
      const edges: Edge[] = [];
      for (const pipelineId of this.pipelineIds) edges.push(...this.makePipeline(pipelineId));
      this.#edges = edges;
      for (const edge of edges) this.processRecord(edge.follower, edge.pipelineId);
      this.subscribeLeaders();
      await this.startScheduling();
      this.#telemetry?.observeLags(edges);
    } catch (error) {
      await this.stopping().catch(() => undefined);
      throw error;
    }
  }

  /** The running instance of an application class in one pipeline (default: the runner's first). */
  get<A extends Application>(cls: ApplicationClass<A>, pipelineId: number = this.pipelineIds[0]): A {
    if (this.#state !== 'started') throw new RunnerError(`the runner is ${this.#state === 'new' ? 'not started' : 'stopped'}`);
    const app = this.#pipelines.get(pipelineId)?.get(applicationNameOf(cls));
    if (app === undefined || !this.system.has(cls)) {
      if (this.#pipelines.has(pipelineId)) throw new RunnerError(`${cls?.name ?? String(cls)} is not an application of this system`);
      throw new RunnerError(`pipeline ${String(pipelineId)} is not run by this runner (it runs: ${this.pipelineIds.join(', ')})`);
    }
    return app as A;
  }

  /**
   * Every process application of every pipeline the runner runs: its state, restarts and last
   * error, and for each upstream the tracking position, the upstream's head and the lag.
   */
  async status(): Promise<RunnerStatus> {
    this.checkRunning();
    const activities = await this.activities();
    const processes = await Promise.all(activities.map((activity) => processStatus(activity, this.follower(activity))));
    return {
      pipelines: this.pipelineIds.map((pipelineId) => ({
        pipelineId,
        processes: processes.filter((process) => process.pipelineId === pipelineId),
      })),
    };
  }

  /**
   * Resolves when every process of every pipeline the runner runs has processed everything its
   * upstreams show, including what that processing produced. Rejects with a processing error not
   * yet reported, with the error of a process that is `failed`, or on timeout naming the processes
   * that are busy or lag.
   */
  async waitUntilIdle(timeoutMs = 60_000): Promise<void> {
    this.checkRunning();
    const deadline = Date.now() + timeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      this.throwUnreportedErrors();
      const before = await this.activities();
      const failed = before.find((activity) => activity.state === 'failed');
      if (failed !== undefined) throw failed.lastError?.error ?? new RunnerError(`${describeProcess(failed)} has failed`);
      const busy = before.filter((activity) => activity.state !== 'idle' || activity.pending);
      const waiting = this.waitingWork();
      let lagging: string[] = [];
      if (busy.length === 0 && waiting === undefined) {
        try {
          lagging = await this.laggingEdges();
        } catch (error) {
          lagging = [`positions could not be read: ${(error as Error).message}`];
        }
        this.throwUnreportedErrors();
        if (lagging.length === 0) {
          const after = await this.activities();
          const unchanged = after.every((activity, index) => activity.state === 'idle' && !activity.pending && activity.runs === before[index].runs);
          if (unchanged) return;
        } else {
          // Idle but behind: a prompt was lost, a write was not yet visible when it came, or a
          // failure left processing to resume later.
          await this.nudge();
        }
      }
      if (Date.now() > deadline) {
        const what =
          busy.length > 0 ? `still processing: ${busy.map(describeBusy).join('; ')}` : waiting ?? lagging.join('; ');
        throw new RunnerError(`waitUntilIdle timed out after ${timeoutMs} ms: ${what}`);
      }
      await this.pause(wait, deadline);
    }
  }

  /**
   * Has a process look again for what is new upstream, from its tracking positions, as after a
   * failure (the runners that supervise their processes take it out of `failed`).
   */
  async restart(cls: ApplicationClass<Follower>, options: { pipelineId?: number } = {}): Promise<void> {
    this.processOf(cls, options.pipelineId);
    await this.nudge();
  }

  /**
   * Moves a process past the notification it failed on without processing it: a
   * SkippedNotification with the reason is recorded with the tracking record, in the process's own
   * log, and the process runs again. Resolves with the id of the notification skipped. It skips
   * only the next notification: when another is next, nothing is written (SkipError).
   */
  async skip(cls: ApplicationClass<Follower>, reason: string, options: SkipOptions = {}): Promise<number> {
    const follower = this.processOf(cls, options.pipelineId);
    const record = this.#processes.get(follower);
    const failed = record?.lastError;
    const upstreamName = options.upstreamName ?? failed?.upstreamName ?? (follower.upstreamNames.length === 1 ? follower.upstreamNames[0] : undefined);
    const notificationId = options.notificationId ?? failed?.notificationId;
    if (upstreamName === undefined || notificationId === undefined) {
      throw new RunnerError(`${describeProcess({ applicationName: follower.name, pipelineId: follower.pipelineId })} did not fail on a notification, so none can be skipped: name it, or restart the process instead`);
    }
    const skipped = (await follower.skipNext(upstreamName, reason, { pipelineId: follower.pipelineId, notificationId }))!;
    if (record !== undefined && failed?.upstreamName === upstreamName && failed.notificationId === skipped) record.lastError = undefined;
    await this.nudge();
    return skipped;
  }

  /**
   * Serves a live console of this runner over HTTP: its topology, every process with its lag and
   * throughput, and restart and skip for failed processes (see ConsoleOptions). Resolves once it
   * listens; it closes when the runner stops.
   */
  async console(options: ConsoleOptions): Promise<ConsoleServer> {
    this.checkRunning();
    const server = await startConsole(this.consoleTarget(), options);
    this.#consoles.add(server);
    server.closed.then(() => this.#consoles.delete(server));
    return server;
  }

  /** Stops processing, closes every application, then rejects if processing failed unreported. */
  async stop(): Promise<void> {
    if (this.#state !== 'started') return;
    await this.stopping();
    this.throwUnreportedErrors();
  }

  // The scheduling: what each runner supplies.

  /** Starts processing; what was recorded while nothing ran is caught up with from here. */
  protected abstract startScheduling(): Promise<void>;

  /** Stops processing: no run starts after this, and those in flight end after their current batch. */
  protected abstract stopScheduling(): Promise<void>;

  /** A leader recorded something (the save that recorded it waits for what this returns). */
  protected abstract prompted(prompt: Prompt): void | Promise<void>;

  /** Has every edge look for something new (waitUntilIdle does when idle edges lag). */
  protected abstract nudge(): void | Promise<void>;

  /** What the runner knows of each process it runs (by default, what the scheduling reported). */
  protected async activities(): Promise<ProcessActivity[]> {
    return [...this.#processes.values()].map((record) => record.snapshot());
  }

  /** Work the scheduling still has to do besides its processes (undefined when none), for waitUntilIdle. */
  protected waitingWork(): string | undefined {
    return undefined;
  }

  /** How waitUntilIdle waits before it looks again (the stepping runners step or wait for a tick). */
  protected pause(ms: number, _deadline: number): Promise<void> {
    return delay(ms).then(() => undefined);
  }

  // What the scheduling reports of its processes.

  /** A process starts (or ends) processing. */
  protected processRunning(follower: Follower, pipelineId: number, running: boolean): void {
    const record = this.processRecord(follower, pipelineId);
    if (running) record.runs += 1;
    record.state = running ? 'running' : 'idle';
  }

  /** Whether a prompt came for a process that it has not taken up yet. */
  protected processPending(follower: Follower, pipelineId: number, pending: boolean): void {
    this.processRecord(follower, pipelineId).pending = pending;
  }

  /**
   * A process failed: the error goes to `errors`, to status() and to stderr. `retrying` says the
   * scheduling tries again by itself (the process is backing off meanwhile).
   */
  protected processFailed(follower: Follower, pipelineId: number, error: unknown, retrying: boolean): void {
    this.recordError(error);
    const record = this.processRecord(follower, pipelineId);
    record.lastError = describeFailure(error, pipelineId, Date.now());
    if (retrying) {
      record.restarts += 1;
      this.#telemetry?.restarted(follower.name, pipelineId);
    }
    record.state = retrying ? 'backing-off' : 'idle';
    this.failureWarnings.failed(follower.name, pipelineId, error);
  }

  /** A process that failed runs again after `delayMs` (its `attempt`th retry without success in between). */
  protected processRetrying(follower: Follower, pipelineId: number, attempt: number, delayMs: number): void {
    this.logger.info(
      { application: follower.name, pipelineId, attempt, delayMs },
      `${follower.name} (pipeline ${pipelineId}) backing off: retrying in ${delayMs} ms (attempt ${attempt})`,
    );
  }

  /**
   * What watches a supervised process (the ActorRunner's masters, the MultiprocessRunner's
   * supervisors): it logs its failures past the limit, backoffs, restarts, skips and workers, and
   * counts its restarts.
   */
  protected processObserver(applicationName: string, pipelineId: number, supervision: SupervisionOptions): ProcessObserver {
    return processObserver({
      applicationName,
      pipelineId,
      supervision,
      logger: this.logger,
      restarted: this.#telemetry && (() => this.#telemetry!.restarted(applicationName, pipelineId)),
    });
  }

  // Errors.

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
    const error = this.reportErrorsSince(this.#reported);
    if (error !== undefined) throw error;
  }

  // The applications.

  /** An application of one pipeline, by name. */
  protected application(name: string, pipelineId = this.pipelineIds[0]): Application {
    const app = this.#pipelines.get(pipelineId)?.get(name);
    if (app === undefined) throw new RunnerError(`pipeline ${pipelineId} has no application named ${name}`);
    return app;
  }

  /** One pipeline's applications, by name. */
  protected applicationsOf(pipelineId: number): ReadonlyMap<string, Application> {
    return this.#pipelines.get(pipelineId)!;
  }

  /** The edges that follow `leaderName` in one pipeline. */
  protected edgesFollowing(leaderName: string, pipelineId: number): Edge[] {
    return this.#edges.filter((edge) => edge.pipelineId === pipelineId && edge.upstreamName === leaderName);
  }

  /** Names the edges whose follower has not yet processed everything its upstream shows. */
  protected async laggingEdges(edges: readonly Edge[] = this.#edges): Promise<string[]> {
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

  /** The running follower of a process application class in one pipeline. */
  protected processOf(cls: ApplicationClass<Follower>, pipelineId: number = this.pipelineIds[0]): Follower {
    this.checkRunning();
    const app = this.get(cls, pipelineId);
    if (!this.system.followers.includes(app.name)) throw new RunnerError(`${app.name} is not a process application of this system`);
    return app as Follower;
  }

  protected checkRunning(): void {
    if (!this.isRunning) throw new RunnerError('the runner is not running');
  }

  /** Makes one pipeline's applications (recording in that pipeline) and wires its followers; returns its edges. */
  private makePipeline(pipelineId: number): Edge[] {
    const applications = new Map<string, Application>();
    this.#pipelines.set(pipelineId, applications);
    for (const name of this.system.applicationNames) {
      applications.set(name, new (this.system.classOf(name))({ env: this.options.env, pipelineId, logger: this.logger }));
    }
    const edges: Edge[] = [];
    for (const name of this.system.followers) {
      const follower = applications.get(name) as Follower;
      for (const upstreamName of this.system.followsOf(name)) {
        const upstream = applications.get(upstreamName)!;
        follower.follow(upstreamName, upstream.recorder, upstream.mapper);
        edges.push({ follower, upstreamName, pipelineId });
      }
    }
    return edges;
  }

  /** The one prompt path: every recording of a leader, in its pipeline, prompts the edges that follow it. */
  private subscribeLeaders(): void {
    for (const pipelineId of this.pipelineIds) {
      for (const leaderName of this.system.leaders) {
        const edges = this.edgesFollowing(leaderName, pipelineId);
        const leader = this.application(leaderName, pipelineId);
        this.#unsubscribes.push(
          leader.onRecorded((recordings: readonly Recording[], recordedIn: number) => {
            if (recordedIn !== pipelineId || recordings.length === 0) return;
            const lastNotificationId = recordings[recordings.length - 1].notificationId;
            return this.prompted({ leaderName, pipelineId, edges, count: recordings.length, lastNotificationId });
          }),
        );
      }
    }
  }

  /** What the console shows and does: this runner's system, status, restart and skip. */
  private consoleTarget(): ConsoleTarget {
    const cls = (name: string) => this.system.classOf(name) as ApplicationClass<Follower>;
    return {
      system: this.system,
      pipelineIds: this.pipelineIds,
      status: () => this.status(),
      restart: (name, pipelineId) => this.restart(cls(name), { pipelineId }),
      skip: (name, pipelineId, upstreamName, notificationId, reason) => this.skip(cls(name), reason, { pipelineId, upstreamName, notificationId }),
    };
  }

  /** Stops the scheduling and closes the applications (also after a start that failed). */
  private async stopping(): Promise<void> {
    this.#state = 'stopped';
    await Promise.allSettled([...this.#consoles].map((server) => server.close()));
    this.#telemetry?.stopObservingLags();
    for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
    try {
      await this.stopScheduling();
    } finally {
      const applications = [...this.#pipelines.values()].flatMap((pipeline) => [...pipeline.values()]);
      await Promise.allSettled(applications.map((app) => app.close()));
    }
  }

  private processRecord(follower: Follower, pipelineId: number): ProcessRecord {
    let record = this.#processes.get(follower);
    if (record === undefined) {
      record = new ProcessRecord(follower, pipelineId);
      this.#processes.set(follower, record);
    }
    return record;
  }

  private follower(activity: ProcessActivity): Follower {
    return this.application(activity.applicationName, activity.pipelineId) as Follower;
  }
}

function checkPipelineIds(pipelineIds: readonly number[] = [0]): readonly number[] {
  if (!Array.isArray(pipelineIds) || pipelineIds.length === 0) {
    throw new RunnerError('pipelineIds must be a non-empty array of integers >= 0');
  }
  for (const id of pipelineIds) {
    if (!Number.isSafeInteger(id) || id < 0) throw new RunnerError(`pipeline ids must be integers >= 0, got ${String(id)}`);
  }
  if (new Set(pipelineIds).size !== pipelineIds.length) throw new RunnerError(`pipelineIds has duplicates: ${pipelineIds.join(', ')}`);
  return Object.freeze([...pipelineIds]);
}

function describeProcess(activity: Pick<ProcessActivity, 'applicationName' | 'pipelineId'>): string {
  return `${activity.applicationName} (pipeline ${activity.pipelineId})`;
}

function describeBusy(activity: ProcessActivity): string {
  const after = activity.state === 'backing-off' && activity.lastError ? ` after ${activity.lastError.message}` : '';
  return `${describeProcess(activity)} is ${activity.state}${after}`;
}
