import { isAbsolute } from 'node:path';
import { Environment, type Application } from '../../../application';
import { ConfigurationError } from '../../../domain';
import { RunnerError } from '../../errors';
import type { Follower } from '../../follower';
import { resolveSupervision, type SupervisionOptions } from '../../supervision';
import type { ApplicationClass, System } from '../../system';
import type { ProcessActivity } from '../status';
import { Prompt, Runner, type RunnerOptions } from '../runner';
import { shapeOf, type SystemModule, type WorkerInit } from './protocol';
import type { Isolation } from './spawn-worker';
import { WorkerSupervisor, type HeartbeatOptions } from './worker-supervisor';

export interface MultiprocessRunnerOptions extends RunnerOptions {
  /** Where the workers load the same System from (classes cannot be sent to another process). */
  systemModule: SystemModule;
  /** A child process per worker (default), or a worker thread. */
  isolation?: Isolation;
  /** How often every worker is prompted without being told of new events (default 1000 ms). */
  pollIntervalMs?: number;
  /** Backoff and restart limits for failing workers, as the ActorRunner's. */
  supervision?: Partial<SupervisionOptions>;
  /** How often workers are pinged, and how long one may stay silent before it is replaced. */
  heartbeat?: Partial<HeartbeatOptions>;
  /** How long a worker told to stop may take to exit before it is killed (default 10,000 ms). */
  stopGraceMs?: number;
  /** The source of backoff jitter (default Math.random), for tests. */
  random?: () => number;
}

const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 1000, timeoutMs: 10_000 };
/** SQLite's own default wait for its write lock (SQLITE_BUSY_TIMEOUT_MS). */
const SQLITE_BUSY_TIMEOUT_DEFAULT_MS = 5000;

/**
 * Runs each process application of each pipeline in an operating-system process of its own (or a
 * worker thread), as the seeds' MultiprocessRunner does, and supervises those workers as the
 * ActorRunner supervises its slaves: a worker that exits (a crash, kill -9, an uncaught error, out
 * of memory) or stops answering heartbeats is replaced with backoff, from its tracking positions;
 * past the restart limit it is `failed` until `restart` or `skip`. Applications that only lead run
 * here, in the caller's process; `get` of a process application gives an instance here that
 * answers queries and never processes.
 *
 * Prompts cross processes: a recording here, or by a worker's follower, prompts the workers that
 * follow it, coalesced (one run in flight and at most one more); a poll tick makes up for a lost
 * prompt. The store must be one every process can reach: SQLite in a file, or PostgreSQL.
 */
export class MultiprocessRunner extends Runner {
  readonly isolation: Isolation;
  readonly pollIntervalMs: number;
  readonly supervision: SupervisionOptions;
  readonly heartbeat: HeartbeatOptions;
  readonly stopGraceMs: number;
  readonly systemModule: Required<SystemModule>;
  readonly #options: MultiprocessRunnerOptions;
  /** By pipeline id, then by follower name. */
  readonly #supervisors = new Map<number, Map<string, WorkerSupervisor>>();
  #ticker: NodeJS.Timeout | undefined;

  constructor(system: System, options: MultiprocessRunnerOptions) {
    super(system, options);
    this.#options = options;
    this.systemModule = checkSystemModule(options?.systemModule);
    this.isolation = options.isolation ?? 'process';
    if (this.isolation !== 'process' && this.isolation !== 'thread') {
      throw new RunnerError(`isolation must be 'process' or 'thread', got ${String(options.isolation)}`);
    }
    this.pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs, 1000);
    this.stopGraceMs = positive('stopGraceMs', options.stopGraceMs, 10_000);
    this.supervision = resolveSupervision(options.supervision);
    const busyTimeoutMs = checkSharedStores(system, options.env);
    const timeoutDefault = Math.max(DEFAULT_HEARTBEAT.timeoutMs, busyTimeoutMs * 2);
    this.heartbeat = {
      intervalMs: positive('heartbeat.intervalMs', options.heartbeat?.intervalMs, DEFAULT_HEARTBEAT.intervalMs),
      timeoutMs: positive('heartbeat.timeoutMs', options.heartbeat?.timeoutMs, timeoutDefault),
    };
    if (this.heartbeat.timeoutMs <= busyTimeoutMs) {
      throw new RunnerError(
        `heartbeat.timeoutMs (${this.heartbeat.timeoutMs}) must exceed SQLITE_BUSY_TIMEOUT_MS (${busyTimeoutMs}): ` +
          `a worker waiting for SQLite's write lock cannot answer, and would be killed for it`,
      );
    }
    if (this.heartbeat.intervalMs >= this.heartbeat.timeoutMs) {
      throw new RunnerError(`heartbeat.intervalMs (${this.heartbeat.intervalMs}) must be less than heartbeat.timeoutMs (${this.heartbeat.timeoutMs})`);
    }
  }

  /** Takes a `failed` process out of that state: its worker runs again from its tracking positions. */
  async restart(cls: ApplicationClass<Follower>, options: { pipelineId?: number } = {}): Promise<void> {
    await this.supervisor(cls, options.pipelineId).restart();
  }

  /**
   * Takes a `failed` process out of that state by skipping the notification it failed on (a
   * SkippedNotification is recorded with the tracking record); resolves with that notification's id.
   */
  async skip(cls: ApplicationClass<Follower>, reason: string, options: { pipelineId?: number } = {}): Promise<number> {
    const supervisor = this.supervisor(cls, options.pipelineId);
    if (typeof reason !== 'string' || reason.trim() === '') throw new RunnerError('a skip needs a reason');
    return supervisor.skip(reason);
  }

  protected async startScheduling(): Promise<void> {
    const shape = shapeOf(this.system);
    const env = stringsOf(this.#options.env);
    for (const pipelineId of this.pipelineIds) {
      const supervisors = new Map<string, WorkerSupervisor>();
      this.#supervisors.set(pipelineId, supervisors);
      for (const followerName of this.system.followers) {
        const init: WorkerInit = { systemModule: this.systemModule, shape, followerName, pipelineId, env };
        supervisors.set(
          followerName,
          new WorkerSupervisor({
            follower: this.application(followerName, pipelineId) as Follower,
            pipelineId,
            init,
            isolation: this.isolation,
            supervision: this.supervision,
            heartbeat: this.heartbeat,
            stopGraceMs: this.stopGraceMs,
            random: this.#options.random,
            recorded: (count, lastNotificationId) =>
              this.prompted({ leaderName: followerName, pipelineId, edges: this.edgesFollowing(followerName, pipelineId), count, lastNotificationId }),
            failed: (error) => {
              this.recordError(error);
              this.failureWarnings.failed(followerName, pipelineId, error);
            },
          }),
        );
      }
    }
    // Every worker pulls once when it starts: what was recorded while nothing ran is caught up with.
    const all = this.allSupervisors();
    for (const supervisor of all) supervisor.prompt();
    const results = await Promise.allSettled(all.map((supervisor) => supervisor.started()));
    const refused = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (refused !== undefined) {
      const error = refused.reason as Error;
      throw error instanceof ConfigurationError ? error : new RunnerError(`a worker could not start: ${error.message}`);
    }
    this.#ticker = setInterval(() => this.nudge(), this.pollIntervalMs);
  }

  protected async stopScheduling(): Promise<void> {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    await Promise.all(this.allSupervisors().map((supervisor) => supervisor.stop()));
  }

  protected prompted(prompt: Prompt): void {
    for (const edge of prompt.edges) {
      this.#supervisors.get(edge.pipelineId)?.get(edge.follower.name)?.prompt(edge.upstreamName, prompt.lastNotificationId);
    }
  }

  protected nudge(): void {
    for (const supervisor of this.allSupervisors()) supervisor.prompt();
  }

  protected override async activities(): Promise<ProcessActivity[]> {
    return this.allSupervisors().map((supervisor) => supervisor.activity());
  }

  private allSupervisors(): WorkerSupervisor[] {
    return [...this.#supervisors.values()].flatMap((supervisors) => [...supervisors.values()]);
  }

  private supervisor(cls: ApplicationClass<Follower>, pipelineId = this.pipelineIds[0]): WorkerSupervisor {
    this.checkRunning();
    const app: Application = this.get(cls, pipelineId);
    const supervisor = this.#supervisors.get(pipelineId)?.get(app.name);
    if (supervisor === undefined) throw new RunnerError(`${app.name} is not a process application of this system: it has no worker`);
    return supervisor;
  }
}

function checkSystemModule(module: SystemModule | undefined): Required<SystemModule> {
  if (module === undefined || module === null || typeof module !== 'object') {
    throw new RunnerError(
      "the MultiprocessRunner needs systemModule: { path, exportName? }, the module its workers load the System from (classes cannot be sent to another process)",
    );
  }
  if (typeof module.path !== 'string' || !isAbsolute(module.path)) {
    throw new RunnerError(`systemModule.path must be an absolute path to a module, got ${JSON.stringify(module.path)}`);
  }
  const exportName = module.exportName ?? 'system';
  if (typeof exportName !== 'string' || exportName === '') throw new RunnerError(`systemModule.exportName must be a name, got ${String(module.exportName)}`);
  return { path: module.path, exportName };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (typeof resolved !== 'number' || !Number.isFinite(resolved) || resolved <= 0) {
    throw new RunnerError(`${name} must be a number of milliseconds > 0, got ${String(value)}`);
  }
  return resolved;
}

function stringsOf(env: RunnerOptions['env']): Record<string, string> {
  const strings: Record<string, string> = {};
  for (const [key, value] of Object.entries(env ?? {})) if (typeof value === 'string') strings[key] = value;
  return strings;
}

/**
 * Refuses stores that workers cannot share (memory; SQLite's :memory:), and says how long SQLite
 * makes a writer wait for its lock (0 when no application uses SQLite).
 */
function checkSharedStores(system: System, env: RunnerOptions['env']): number {
  let busyTimeoutMs = 0;
  for (const name of system.applicationNames) {
    const settings = new Environment(name, { ...process.env, ...env });
    const persistence = settings.get('PERSISTENCE') ?? 'memory';
    if (persistence === 'memory') {
      throw new RunnerError(
        `${name} would use PERSISTENCE=memory, which the MultiprocessRunner cannot run: its workers are other processes, ` +
          `and memory is not shared between them. Use PERSISTENCE=sqlite with SQLITE_DBNAME set to a file, or PERSISTENCE=postgres`,
      );
    }
    if (persistence === 'sqlite') {
      if (settings.get('SQLITE_DBNAME') === ':memory:') {
        throw new RunnerError(`${name} would use SQLITE_DBNAME=:memory:, which other processes cannot open: give it a file path`);
      }
      const busy = Number(settings.get('SQLITE_BUSY_TIMEOUT_MS') ?? SQLITE_BUSY_TIMEOUT_DEFAULT_MS);
      if (Number.isFinite(busy)) busyTimeoutMs = Math.max(busyTimeoutMs, busy);
    }
  }
  return busyTimeoutMs;
}
