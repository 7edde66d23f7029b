import type { Application } from '../../../application';
import { ConfigurationError } from '../../../domain';
import { RunnerError } from '../../errors';
import type { Follower } from '../../follower';
import { resolveSupervision, type SupervisionOptions } from '../../supervision';
import type { ApplicationClass, System } from '../../system';
import { ClusterMember, withSlotPositions, type ClusterStatus } from '../../cluster/cluster-member';
import { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from '../../cluster/options';
import type { ProcessActivity, RunnerStatus } from '../status';
import type { Prompt } from '../edge';
import { Runner, type RunnerOptions, type SkipOptions } from '../runner';
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
  /**
   * Makes the runner a member of the cluster of runners over one PostgreSQL database and schema:
   * each (process application, pipeline) is processed by exactly one live member at a time.
   */
  cluster?: ClusterOptions | true;
  /** Told when a member's slots move, or its session is lost and regained (for a log). */
  onClusterEvent?: (event: string, fields: Record<string, unknown>) => void;
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
  readonly #clusterOptions: ResolvedClusterOptions | undefined;
  #cluster: ClusterMember | undefined;

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
    if (options.cluster !== undefined) {
      this.#clusterOptions = resolveClusterOptions(system, options.env, options.cluster, 'the MultiprocessRunner');
    }
  }

  /** Takes a `failed` process out of that state: its worker runs again from its tracking positions. */
  override async restart(cls: ApplicationClass<Follower>, options: { pipelineId?: number } = {}): Promise<void> {
    await this.supervisor(cls, options.pipelineId).restart();
  }

  /**
   * Takes a `failed` process out of that state by skipping the notification it failed on (a
   * SkippedNotification is recorded with the tracking record); resolves with that notification's id.
   * Naming the notification (SkipOptions), another one is never skipped.
   */
  override async skip(cls: ApplicationClass<Follower>, reason: string, options: SkipOptions = {}): Promise<number> {
    const supervisor = this.supervisor(cls, options.pipelineId);
    if (typeof reason !== 'string' || reason.trim() === '') throw new RunnerError('a skip needs a reason');
    return supervisor.skip(reason, { upstreamName: options.upstreamName, notificationId: options.notificationId });
  }

  protected async startScheduling(): Promise<void> {
    for (const pipelineId of this.pipelineIds) this.#supervisors.set(pipelineId, new Map());
    if (this.#clusterOptions !== undefined) {
      // A member processes only the slots it owns: the cluster starts and stops them as they move.
      this.#cluster = new ClusterMember(this.#clusterOptions, this.system, this.pipelineIds, {
        start: (slot) => this.startSupervisors([this.startSupervisor(slot.applicationName, slot.pipelineId)]).catch((error: unknown) => this.recordError(error)),
        stop: async (slot, now) => {
          const supervisor = this.#supervisors.get(slot.pipelineId)?.get(slot.applicationName);
          this.#supervisors.get(slot.pipelineId)?.delete(slot.applicationName);
          await supervisor?.stop({ now });
        },
        prompted: (leaderName, pipelineId, lastNotificationId) => this.promptLocally(leaderName, pipelineId, lastNotificationId),
      }, { logger: this.logger, onEvent: this.#options.onClusterEvent });
      await this.#cluster.start();
    } else {
      const all = this.pipelineIds.flatMap((pipelineId) => this.system.followers.map((name) => this.startSupervisor(name, pipelineId)));
      await this.startSupervisors(all);
    }
    this.#ticker = setInterval(() => this.nudge(), this.pollIntervalMs);
  }

  /** The supervisor of one follower in one pipeline, made and prompted: its worker pulls once when it starts. */
  private startSupervisor(followerName: string, pipelineId: number): WorkerSupervisor {
    const supervisor = new WorkerSupervisor({
      follower: this.application(followerName, pipelineId) as Follower,
      init: workerInit(this.system, this.systemModule, followerName, pipelineId, this.#options.env),
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
    });
    this.#supervisors.get(pipelineId)!.set(followerName, supervisor);
    supervisor.prompt();
    return supervisor;
  }

  /** Resolves once every worker of `supervisors` is ready; rejects with why one could not start. */
  private async startSupervisors(supervisors: readonly WorkerSupervisor[]): Promise<void> {
    const results = await Promise.allSettled(supervisors.map((supervisor) => supervisor.started()));
    const refused = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (refused !== undefined) {
      const error = refused.reason as Error;
      throw error instanceof ConfigurationError ? error : new RunnerError(`a worker could not start: ${error.message}`);
    }
  }

  protected async stopScheduling(): Promise<void> {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    await this.#cluster?.stop();
    await Promise.all(this.allSupervisors().map((supervisor) => supervisor.stop()));
  }

  protected prompted(prompt: Prompt): void {
    for (const edge of prompt.edges) {
      this.#supervisors.get(edge.pipelineId)?.get(edge.follower.name)?.prompt(edge.upstreamName, prompt.lastNotificationId);
    }
    if (prompt.edges.length > 0) this.#cluster?.recorded(prompt.leaderName, prompt.pipelineId, prompt.lastNotificationId);
  }

  /** Another member recorded something: the followers of it here pull. */
  private promptLocally(leaderName: string, pipelineId: number, lastNotificationId: number): void {
    for (const edge of this.edgesFollowing(leaderName, pipelineId)) {
      this.#supervisors.get(pipelineId)?.get(edge.follower.name)?.prompt(edge.upstreamName, lastNotificationId);
    }
  }

  /**
   * Every process's status, as every runner's; a member of a cluster adds `cluster`: every slot of
   * the cluster with its owner, and the live members.
   */
  override async status(): Promise<RunnerStatus & { cluster?: ClusterStatus }> {
    const status = await super.status();
    if (this.#cluster === undefined) return status;
    const cluster = await withSlotPositions(await this.#cluster.status(), (slot) => this.application(slot.applicationName, slot.pipelineId) as Follower);
    return { ...status, cluster };
  }

  /** For tests: process a slot here whether or not this member owns it (exactly once still holds). */
  forceSlot(applicationName: string, pipelineId: number): Promise<void> | void {
    if (this.#cluster === undefined) throw new RunnerError('forceSlot is for members of a cluster');
    return this.#cluster.forceWorking({ applicationName, pipelineId });
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
