import { setImmediate as nextTurn } from 'node:timers/promises';
import { start as startActorSystem, type Ref } from 'nact';
import { applicationNameOf } from '../application';
import {
  Follower,
  Prompt,
  Runner,
  RunnerError,
  RunnerOptions,
  System,
  resolveSupervision,
  resolveWorkerOptions,
  type SupervisionOptions,
  type WorkerOptions,
  type ApplicationClass,
  type ProcessActivity,
  type RunnerStatus,
  type SkipOptions,
} from '../system';
import { ClusterMember, resolveClusterOptions, withSlotPositions, type ClusterOptions, type ClusterStatus, type ResolvedClusterOptions, type Slot } from '../system/cluster';
import { CommandInbox } from './command-inbox';
import { ProcessWorkers } from './process-workers';
import type { CommandApplicationClass, CommandArgs, CommandName, CommandResult } from './commands';
import { AskTimeoutError } from './errors';
import type { ProcessSnapshot, SystemMessage } from './protocols';
import { ActorGone, ask, AskTimeout, MAX_TIMEOUT_MS, stopActor, tell, type ActorRef, type ParentRef } from './refs';
import { spawnSystemActor } from './system-actor';

export interface ActorRunnerOptions extends RunnerOptions {
  /** How often every process is prompted without being told of new events (default 1000 ms). */
  pollIntervalMs?: number;
  /** Backoff and restart limits for failing processes (see SupervisionOptions). */
  supervision?: Partial<SupervisionOptions>;
  /**
   * How many commands sent by message each application runs at once (default 64); beyond that
   * they wait in order. Queries have as many slots again of their own.
   */
  commandConcurrency?: number;
  /**
   * A reference in the user's own nact system (from `start()`, or an actor) under which the
   * runner's actors live. Without it, the runner starts a nact system of its own and stops it.
   */
  parent?: Ref<any>;
  /** The source of backoff jitter (default Math.random), for tests. */
  random?: () => number;
  /**
   * Where each ProcessSlave's work runs: in the runner's process (default 'actor'), or in a worker
   * process of its own ('process': a child process, or a thread with `isolation: 'thread'`),
   * supervised by its ProcessMaster as a slave actor is. Process slaves need `systemModule`, as the
   * MultiprocessRunner does, and a store every process can open.
   */
  slaves?: 'actor' | 'process';
  /**
   * Makes the runner a member of the cluster of runners over one PostgreSQL database and schema:
   * each (process application, pipeline) is processed by exactly one live member at a time (see
   * the MultiprocessRunner's `cluster`); a member's masters start and stop as its slots move.
   */
  cluster?: ClusterOptions | true;
  /** Told when a member's slots move, or its session is lost and regained (for a log). */
  onClusterEvent?: (event: string, fields: Record<string, unknown>) => void;
  systemModule?: WorkerOptions['systemModule'];
  isolation?: WorkerOptions['isolation'];
  heartbeat?: WorkerOptions['heartbeat'];
  stopGraceMs?: WorkerOptions['stopGraceMs'];
}

export interface AskOptions {
  /** How long to wait for the answer (default 30,000 ms); the command may still complete later. */
  timeoutMs?: number;
  /** The pipeline the command enters (default: the first of the runner's pipelines). */
  pipelineId?: number;
}

/** @deprecated every runner's status has one shape: RunnerStatus. */
export type ActorRunnerStatus = RunnerStatus;

const DEFAULT_ASK_TIMEOUT_MS = 30_000;
const DEFAULT_COMMAND_CONCURRENCY = 64;
const STATUS_TIMEOUT_MS = 30_000;

/** `promise`, or the error `timedOut` makes if it has not settled within `timeoutMs` (the work may still complete). */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number, timedOut: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(timedOut()), Math.min(timeoutMs, MAX_TIMEOUT_MS));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Runs a system on nact actors, in the shape of the seeds' Thespian runner: a SystemActor spawns a
 * PipelineActor per pipeline id; each spawns a ProcessMaster per process application (and an
 * ApplicationActor per application, for commands as messages); each master spawns and supervises
 * a ProcessSlave that pulls the upstream logs and applies the policy.
 *
 * Pipelines partition the work: each pipeline id has its own instances of the system's
 * applications, which record in that pipeline, so a command that enters through pipeline p is
 * processed downstream in pipeline p only, with its own positions. A runner can be given a subset
 * of the pipeline ids, so that runners in other processes or machines share the work over one
 * PostgreSQL database.
 *
 * Failing processes are restarted with exponential backoff and jitter, from their durable tracking
 * positions; past the restart limit a process stays `failed` until `restart` or `skip`. `status()`
 * shows every process. `stop()` drains: no run starts, runs in flight finish their current batch,
 * actors stop bottom-up, timers are cleared and connections closed.
 */
export class ActorRunner extends Runner {
  readonly pollIntervalMs: number;
  readonly supervision: SupervisionOptions;
  readonly commandConcurrency: number;
  readonly #options: ActorRunnerOptions;
  #actorSystem: Ref<never> | undefined;
  #systemActor: ActorRef<SystemMessage> | undefined;
  /** Ticks the SystemActor every pollIntervalMs, so that a lost prompt only delays. */
  #ticker: NodeJS.Timeout | undefined;
  /**
   * Notifications each leader (of each pipeline) recorded since its pipeline actor last took up
   * its 'recorded' message: however fast a leader records, at most one such message per leader
   * waits in the mailbox.
   */
  readonly #unannounced = new Map<string, number>();
  /** Each pipeline's command inboxes (its application actors'), by pipeline id, then by name. */
  #inboxes = new Map<number, ReadonlyMap<string, CommandInbox>>();
  /** Every this many unannounced notifications, a leader's save gives the event loop a turn (see prompted). */
  #yieldEvery = 1;
  /** The worker processes of process slaves (undefined when slaves are actors). */
  readonly #workers: ProcessWorkers | undefined;
  readonly #clusterOptions: ResolvedClusterOptions | undefined;
  #cluster: ClusterMember | undefined;

  constructor(system: System, options: ActorRunnerOptions = {}) {
    super(system, options);
    this.#options = options;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    if (typeof this.pollIntervalMs !== 'number' || !(this.pollIntervalMs > 0) || this.pollIntervalMs > MAX_TIMEOUT_MS) {
      throw new RunnerError(`pollIntervalMs must be a number of milliseconds > 0, got ${String(options.pollIntervalMs)}`);
    }
    this.supervision = resolveSupervision(options.supervision);
    const slaves = options.slaves ?? 'actor';
    if (slaves !== 'actor' && slaves !== 'process') throw new RunnerError(`slaves must be 'actor' or 'process', got ${String(options.slaves)}`);
    if (slaves === 'process') {
      const workers = resolveWorkerOptions(system, options as WorkerOptions & ActorRunnerOptions, "the ActorRunner with slaves: 'process'");
      this.#workers = new ProcessWorkers(system, workers, options.env);
    }
    if (options.cluster !== undefined) this.#clusterOptions = resolveClusterOptions(system, options.env, options.cluster, 'the ActorRunner');
    this.commandConcurrency = options.commandConcurrency ?? DEFAULT_COMMAND_CONCURRENCY;
    if (!Number.isSafeInteger(this.commandConcurrency) || this.commandConcurrency < 1) {
      throw new RunnerError(`commandConcurrency must be an integer >= 1, got ${String(options.commandConcurrency)}`);
    }
  }

  /** The runner's SystemActor: user actors may send it commands (SystemMessage) directly. */
  get ref(): ActorRef<SystemMessage> {
    return this.systemActor();
  }

  protected async startScheduling(): Promise<void> {
    const batchSizes = this.edges.map((edge) => edge.follower.batchSize);
    this.#yieldEvery = batchSizes.length === 0 ? Infinity : Math.max(1, Math.floor(Math.min(...batchSizes) / 4));
    const pipelines = new Map(this.pipelineIds.map((pipelineId) => [pipelineId, this.applicationsOf(pipelineId)]));
    this.#inboxes = new Map(
      [...pipelines].map(([pipelineId, applications]) => [
        pipelineId,
        new Map([...applications].map(([name, app]) => [name, new CommandInbox(app, this.commandConcurrency)])),
      ]),
    );
    const parent: ParentRef = this.#options.parent ?? (this.#actorSystem = startActorSystem());
    this.#systemActor = spawnSystemActor(parent, {
      name: `eventsourcing-${Math.random().toString(36).slice(2, 10)}`,
      system: this.system,
      pipelines,
      supervision: this.supervision,
      inboxes: this.#inboxes,
      statusTimeoutMs: STATUS_TIMEOUT_MS,
      onFault: (error) => this.recordError(error),
      onFailure: (applicationName, pipelineId, error) => this.failureWarnings.failed(applicationName, pipelineId, error),
      observe: (applicationName, pipelineId) => this.processObserver(applicationName, pipelineId, this.supervision),
      announced: (pipelineId, leaderName) => this.#unannounced.set(`${pipelineId}:${leaderName}`, 0),
      random: this.#options.random,
      processWorkers: this.#workers && {
        pool: this.#workers,
        recorded: (followerName, pipelineId, count, lastNotificationId) =>
          this.prompted({ leaderName: followerName, pipelineId, edges: this.edgesFollowing(followerName, pipelineId), count, lastNotificationId }),
      },
      clustered: this.#clusterOptions !== undefined,
    });
    const systemActor = this.#systemActor;
    await ask<SystemMessage, void>(systemActor, (replyTo) => ({ type: 'start', replyTo }), MAX_TIMEOUT_MS);
    if (this.#clusterOptions !== undefined) {
      const toSlot = (type: 'start-process' | 'stop-process', slot: Slot) =>
        ask<SystemMessage, void>(systemActor, (replyTo) => ({ type, pipelineId: slot.pipelineId, applicationName: slot.applicationName, replyTo }), MAX_TIMEOUT_MS);
      this.#cluster = new ClusterMember(this.#clusterOptions, this.system, this.pipelineIds, {
        start: (slot) => toSlot('start-process', slot).catch((error: unknown) => this.recordError(error)),
        // An in-process slave cannot be cut off mid-batch: its batch in flight finishes (the
        // tracking compare-and-set refuses it if another member got there first).
        stop: (slot) => toSlot('stop-process', slot),
        prompted: (leaderName, pipelineId) => tell(systemActor, { type: 'recorded', pipelineId, leaderName }),
      }, { logger: this.logger, onEvent: this.#options.onClusterEvent });
      await this.#cluster.start();
    } else {
      // Each master spawns its slave on its first prompt: with process slaves, start() fails if one cannot start.
      await this.#workers?.started(this.edges.length === 0 ? 0 : new Set(this.edges.map((edge) => edge.follower)).size);
    }
    this.#ticker = setInterval(() => tell(systemActor, { type: 'tick' }), this.pollIntervalMs);
  }

  protected async stopScheduling(): Promise<void> {
    try {
      await this.#cluster?.stop(); // hands the slots over: each master drains first
      await this.stopActors();
    } finally {
      await this.#workers?.stopAll(); // nothing is left running
    }
    this.#inboxes = new Map();
  }

  protected prompted(prompt: Prompt): void | Promise<void> {
    const systemActor = this.#systemActor;
    if (systemActor === undefined || prompt.edges.length === 0) return;
    const key = `${prompt.pipelineId}:${prompt.leaderName}`;
    const before = this.#unannounced.get(key) ?? 0;
    if (before === 0) tell(systemActor, { type: 'recorded', pipelineId: prompt.pipelineId, leaderName: prompt.leaderName });
    this.#cluster?.recorded(prompt.leaderName, prompt.pipelineId, prompt.lastNotificationId);
    const after = before + prompt.count;
    this.#unannounced.set(key, after);
    // Actors take their messages on turns of the event loop; a caller recording in a loop that
    // never yields (awaiting only in-memory or SQLite work) would starve them, leaving every
    // follower behind until the loop ends.
    if (Math.floor(after / this.#yieldEvery) > Math.floor(before / this.#yieldEvery)) return nextTurn();
  }

  protected nudge(): void {
    if (this.#systemActor !== undefined) tell(this.#systemActor, { type: 'tick' });
  }

  /** What the masters know of their processes. */
  protected override activities(): Promise<ProcessActivity[]> {
    return ask<SystemMessage, ProcessSnapshot[]>(this.systemActor(), (replyTo) => ({ type: 'status', replyTo }), STATUS_TIMEOUT_MS);
  }

  /**
   * Every process's status, as every runner's; a member of a cluster adds `cluster`: every slot of
   * the cluster with its owner and positions, and the live members.
   */
  override async status(): Promise<RunnerStatus & { cluster?: ClusterStatus }> {
    const status = await super.status();
    if (this.#cluster === undefined) return status;
    return { ...status, cluster: await withSlotPositions(await this.#cluster.status(), (slot) => this.get(this.system.classOf(slot.applicationName), slot.pipelineId) as Follower) };
  }

  /**
   * Sends a command to an application's actor as a message and resolves with what the method
   * resolves with (or rejects with its error). Only the methods its class declares in
   * `static commands` can be called (a list, `[...] as const`, or an object of declarations);
   * names and arguments are type-checked.
   */
  async ask<C extends CommandApplicationClass, K extends CommandName<C>>(
    cls: C,
    command: K,
    args: CommandArgs<C, K>,
    options: AskOptions = {},
  ): Promise<CommandResult<C, K>> {
    const systemActor = this.systemActor();
    const applicationName = this.nameOf(cls);
    const pipelineId = options.pipelineId ?? this.pipelineIds[0];
    const timeoutMs = options.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw new RunnerError(`timeoutMs must be a number > 0, got ${String(timeoutMs)}`);
    // In the same process the command goes straight to its application actor's inbox: a message
    // through the SystemActor and the PipelineActor would cost a turn of the event loop at each
    // (nact takes one message per turn), which under load caps the rate at one command per turn.
    const inbox = this.#inboxes.get(pipelineId)?.get(applicationName);
    if (inbox === undefined) return this.askByMessage(systemActor, pipelineId, applicationName, command, args, timeoutMs) as Promise<CommandResult<C, K>>;
    return (await withTimeout(
      inbox.take(command, args),
      timeoutMs,
      () => new AskTimeoutError(`${applicationName}.${String(command)} (pipeline ${pipelineId}) was not answered within ${timeoutMs} ms`),
    )) as CommandResult<C, K>;
  }

  /** A command sent through the SystemActor (for a pipeline or application the runner does not have: its error answer). */
  private async askByMessage(systemActor: ActorRef<SystemMessage>, pipelineId: number, applicationName: string, command: string, args: unknown, timeoutMs: number): Promise<unknown> {
    try {
      return await ask<SystemMessage, unknown>(systemActor, (replyTo) => ({ type: 'command', pipelineId, applicationName, command, args, replyTo }), timeoutMs);
    } catch (error) {
      if (error instanceof AskTimeout) {
        throw new AskTimeoutError(`${applicationName}.${command} (pipeline ${pipelineId}) was not answered within ${timeoutMs} ms`);
      }
      if (error instanceof ActorGone) throw new RunnerError(`the runner stopped before ${applicationName}.${command} was answered`);
      throw error;
    }
  }

  /** Takes a `failed` process out of that state: it runs again from its tracking position. */
  override async restart(cls: ApplicationClass<Follower>, options: { pipelineId?: number } = {}): Promise<void> {
    const systemActor = this.systemActor();
    const applicationName = this.nameOf(cls);
    const pipelineId = options.pipelineId ?? this.pipelineIds[0];
    await ask<SystemMessage, void>(systemActor, (replyTo) => ({ type: 'restart', pipelineId, applicationName, replyTo }), STATUS_TIMEOUT_MS);
  }

  /**
   * Takes a `failed` process out of that state by skipping the notification it failed on: a
   * SkippedNotification with the reason is recorded with the tracking record, in the process's own
   * log, and the process runs again. Resolves with the id of the notification skipped. Naming the
   * notification (SkipOptions), another one is never skipped.
   */
  override async skip(cls: ApplicationClass<Follower>, reason: string, options: SkipOptions = {}): Promise<number> {
    const systemActor = this.systemActor();
    const applicationName = this.nameOf(cls);
    if (typeof reason !== 'string' || reason.trim() === '') throw new RunnerError('a skip needs a reason');
    const pipelineId = options.pipelineId ?? this.pipelineIds[0];
    const { upstreamName, notificationId } = options;
    return ask<SystemMessage, number>(
      systemActor,
      (replyTo) => ({ type: 'skip', pipelineId, applicationName, reason, upstreamName, notificationId, replyTo }),
      STATUS_TIMEOUT_MS,
    );
  }

  /** Drains and stops the actors bottom-up, then the runner's own nact system. */
  private async stopActors(): Promise<void> {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    const systemActor = this.#systemActor;
    this.#systemActor = undefined;
    try {
      if (systemActor !== undefined) {
        await ask<SystemMessage, void>(systemActor, (replyTo) => ({ type: 'stop', replyTo }), MAX_TIMEOUT_MS).catch((error: unknown) => {
          if (!(error instanceof ActorGone)) throw error;
          throw new RunnerError(`the runner's actors were stopped from outside (was the parent given to the runner stopped?): ${error.message}`);
        });
      }
    } finally {
      if (systemActor !== undefined) stopActor(systemActor);
      if (this.#actorSystem !== undefined) stopActor(this.#actorSystem);
      this.#actorSystem = undefined;
    }
  }

  private systemActor(): ActorRef<SystemMessage> {
    if (!this.isRunning || this.#systemActor === undefined) throw new RunnerError('the runner is not running');
    return this.#systemActor;
  }

  private nameOf(cls: ApplicationClass<any>): string {
    if (typeof cls !== 'function' || !this.system.has(cls)) {
      throw new RunnerError(`${(cls as { name?: string } | undefined)?.name ?? String(cls)} is not an application of this system`);
    }
    return applicationNameOf(cls);
  }
}

