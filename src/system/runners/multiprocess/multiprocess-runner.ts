import type { Application } from '../../../application';
import { ConfigurationError } from '../../../domain';
import { RunnerError } from '../../errors';
import type { Follower } from '../../follower';
import { resolveSupervision, type SupervisionOptions } from '../../supervision';
import type { ApplicationClass, System } from '../../system';
import type { ProcessActivity } from '../status';
import { Prompt, Runner, type RunnerOptions } from '../runner';
import type { SystemModule } from './protocol';
import type { Isolation } from './spawn-worker';
import type { HeartbeatOptions } from './worker-slave';
import { WorkerSupervisor } from './worker-supervisor';
import { positive, resolveWorkerOptions, workerInit, type WorkerOptions } from './worker-options';

export interface MultiprocessRunnerOptions extends RunnerOptions, WorkerOptions {
  /** How often every worker is prompted without being told of new events (default 1000 ms). */
  pollIntervalMs?: number;
  /** Backoff and restart limits for failing workers, as the ActorRunner's. */
  supervision?: Partial<SupervisionOptions>;
  /** The source of backoff jitter (default Math.random), for tests. */
  random?: () => number;
}

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
    const workers = resolveWorkerOptions(system, options, 'the MultiprocessRunner');
    this.systemModule = workers.systemModule;
    this.isolation = workers.isolation;
    this.heartbeat = workers.heartbeat;
    this.stopGraceMs = workers.stopGraceMs;
    this.pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs, 1000);
    this.supervision = resolveSupervision(options.supervision);
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
    for (const pipelineId of this.pipelineIds) {
      const supervisors = new Map<string, WorkerSupervisor>();
      this.#supervisors.set(pipelineId, supervisors);
      for (const followerName of this.system.followers) {
        const init = workerInit(this.system, this.systemModule, followerName, pipelineId, this.#options.env);
        supervisors.set(
          followerName,
          new WorkerSupervisor({
            follower: this.application(followerName, pipelineId) as Follower,
            init,
            isolation: this.isolation,
            supervision: this.supervision,
            heartbeat: this.heartbeat,
            stopGraceMs: this.stopGraceMs,
            random: this.#options.random,
            recorded: (count, lastNotificationId) =>
              this.prompted({ leaderName: followerName, pipelineId, edges: this.edgesFollowing(followerName, pipelineId), count, lastNotificationId }),
            observer: this.processObserver(followerName, pipelineId, this.supervision),
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
