import { start as startActorSystem, type Ref } from 'nact';
import { applicationNameOf, type Application } from '../application';
import {
  Edge,
  Follower,
  processStatus,
  Runner,
  RunnerError,
  RunnerOptions,
  sleep,
  System,
  type ApplicationClass,
  type ProcessStatus,
  type RunnerStatus,
} from '../system';
import type { CommandApplicationClass, CommandArgs, CommandName, CommandResult } from './commands';
import { AskTimeoutError } from './errors';
import type { ProcessSnapshot, SystemMessage } from './protocols';
import { ActorGone, ask, AskTimeout, MAX_TIMEOUT_MS, stopActor, tell, type ActorRef, type ParentRef } from './refs';
import { resolveSupervision, type SupervisionOptions } from './supervision';
import { spawnSystemActor } from './system-actor';

export interface ActorRunnerOptions extends RunnerOptions {
  /** The pipelines this runner processes (default [0]); others may run elsewhere over the same store. */
  pipelineIds?: readonly number[];
  /** How often every process is prompted without being told of new events (default 1000 ms). */
  pollIntervalMs?: number;
  /** Backoff and restart limits for failing processes (see SupervisionOptions). */
  supervision?: Partial<SupervisionOptions>;
  /**
   * A reference in the user's own nact system (from `start()`, or an actor) under which the
   * runner's actors live. Without it, the runner starts a nact system of its own and stops it.
   */
  parent?: Ref<any>;
  /** The source of backoff jitter (default Math.random), for tests. */
  random?: () => number;
}

export interface AskOptions {
  /** How long to wait for the answer (default 30,000 ms); the command may still complete later. */
  timeoutMs?: number;
  /** The pipeline the command enters (default: the first of the runner's pipelines). */
  pipelineId?: number;
}

/** A process application's status on the actor runner: its master's run count and pending prompt too. */
export type ActorProcessStatus = ProcessStatus & ProcessSnapshot;

export type ActorRunnerStatus = RunnerStatus<ActorProcessStatus>;

const DEFAULT_ASK_TIMEOUT_MS = 30_000;
const STATUS_TIMEOUT_MS = 30_000;

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
  readonly pipelineIds: readonly number[];
  readonly pollIntervalMs: number;
  readonly supervision: SupervisionOptions;
  readonly #options: ActorRunnerOptions;
  /** Each pipeline's applications, by pipeline id, then by name. */
  #pipelines = new Map<number, Map<string, Application>>();
  /** Applications this runner made besides the base class's (pipeline 0's). */
  readonly #ownApplications: Application[] = [];
  #actorSystem: Ref<never> | undefined;
  #systemActor: ActorRef<SystemMessage> | undefined;
  /** Ticks the SystemActor every pollIntervalMs, so that a lost prompt only delays. */
  #ticker: NodeJS.Timeout | undefined;

  constructor(system: System, options: ActorRunnerOptions = {}) {
    super(system, options);
    this.#options = options;
    const pipelineIds = options.pipelineIds ?? [0];
    if (!Array.isArray(pipelineIds) || pipelineIds.length === 0) {
      throw new RunnerError('pipelineIds must be a non-empty array of integers >= 0');
    }
    for (const id of pipelineIds) {
      if (!Number.isSafeInteger(id) || id < 0) throw new RunnerError(`pipeline ids must be integers >= 0, got ${String(id)}`);
    }
    if (new Set(pipelineIds).size !== pipelineIds.length) throw new RunnerError(`pipelineIds has duplicates: ${pipelineIds.join(', ')}`);
    this.pipelineIds = Object.freeze([...pipelineIds]);
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    if (typeof this.pollIntervalMs !== 'number' || !(this.pollIntervalMs > 0) || this.pollIntervalMs > MAX_TIMEOUT_MS) {
      throw new RunnerError(`pollIntervalMs must be a number of milliseconds > 0, got ${String(options.pollIntervalMs)}`);
    }
    this.supervision = resolveSupervision(options.supervision);
  }

  /** The runner's SystemActor: user actors may send it commands (SystemMessage) directly. */
  get ref(): ActorRef<SystemMessage> {
    return this.systemActor();
  }

  protected async startRunning(): Promise<void> {
    try {
      for (const pipelineId of this.pipelineIds) this.#pipelines.set(pipelineId, this.makeApplications(pipelineId));
      const parent: ParentRef = this.#options.parent ?? (this.#actorSystem = startActorSystem());
      this.#systemActor = spawnSystemActor(parent, {
        name: `eventsourcing-${Math.random().toString(36).slice(2, 10)}`,
        system: this.system,
        pipelines: this.#pipelines,
        supervision: this.supervision,
        statusTimeoutMs: STATUS_TIMEOUT_MS,
        onFault: (error) => this.recordError(error),
        onFailure: (applicationName, pipelineId, error) => this.failureWarnings.failed(applicationName, pipelineId, error),
        random: this.#options.random,
      });
      const systemActor = this.#systemActor;
      await ask<SystemMessage, void>(systemActor, (replyTo) => ({ type: 'start', replyTo }), MAX_TIMEOUT_MS);
      this.#ticker = setInterval(() => tell(systemActor, { type: 'tick' }), this.pollIntervalMs);
    } catch (error) {
      await this.stopActors().catch(() => undefined);
      throw error;
    }
  }

  protected async stopRunning(): Promise<void> {
    await this.stopActors();
  }

  /** The running instance of an application class in one pipeline (default: the runner's first). */
  override get<A extends Application>(cls: ApplicationClass<A>, pipelineId: number = this.pipelineIds[0]): A {
    super.get(cls); // refuses a runner not running, and classes not of the system
    return this.applicationIn(applicationNameOf(cls), pipelineId) as A;
  }

  /**
   * Sends a command to an application's actor as a message and resolves with what the method
   * resolves with (or rejects with its error). Only the methods its class declares in
   * `static commands = [...] as const` can be called; names and arguments are type-checked.
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
    try {
      return (await ask<SystemMessage, unknown>(
        systemActor,
        (replyTo) => ({ type: 'command', pipelineId, applicationName, command, args, replyTo }),
        timeoutMs,
      )) as CommandResult<C, K>;
    } catch (error) {
      if (error instanceof AskTimeout) {
        throw new AskTimeoutError(`${applicationName}.${String(command)} (pipeline ${pipelineId}) was not answered within ${timeoutMs} ms`);
      }
      if (error instanceof ActorGone) throw new RunnerError(`the runner stopped before ${applicationName}.${String(command)} was answered`);
      throw error;
    }
  }

  /** Takes a `failed` process out of that state: it runs again from its tracking position. */
  async restart(cls: ApplicationClass<Follower>, options: { pipelineId?: number } = {}): Promise<void> {
    const systemActor = this.systemActor();
    const applicationName = this.nameOf(cls);
    const pipelineId = options.pipelineId ?? this.pipelineIds[0];
    await ask<SystemMessage, void>(systemActor, (replyTo) => ({ type: 'restart', pipelineId, applicationName, replyTo }), STATUS_TIMEOUT_MS);
  }

  /**
   * Takes a `failed` process out of that state by skipping the notification it failed on: a
   * SkippedNotification with the reason is recorded with the tracking record, in the process's own
   * log, and the process runs again. Resolves with the id of the notification skipped.
   */
  async skip(cls: ApplicationClass<Follower>, reason: string, options: { pipelineId?: number } = {}): Promise<number> {
    const systemActor = this.systemActor();
    const applicationName = this.nameOf(cls);
    if (typeof reason !== 'string' || reason.trim() === '') throw new RunnerError('a skip needs a reason');
    const pipelineId = options.pipelineId ?? this.pipelineIds[0];
    return ask<SystemMessage, number>(systemActor, (replyTo) => ({ type: 'skip', pipelineId, applicationName, reason, replyTo }), STATUS_TIMEOUT_MS);
  }

  /**
   * Every process application of every pipeline this runner runs: its state, restarts and last
   * error, and for each upstream the tracking position, the upstream's head and the lag.
   */
  override async status(): Promise<ActorRunnerStatus> {
    const snapshots = await this.snapshots();
    const processes = await Promise.all(
      snapshots.map((snapshot) => processStatus(snapshot, this.applicationIn(snapshot.applicationName, snapshot.pipelineId) as Follower)),
    );
    return {
      pipelines: this.pipelineIds.map((pipelineId) => ({
        pipelineId,
        processes: processes.filter((process) => process.pipelineId === pipelineId),
      })),
    };
  }

  /**
   * Resolves when every process of every pipeline this runner runs has processed everything its
   * upstreams show, including what that processing produced. Rejects with the error of a process
   * that is `failed`, or on timeout naming the processes that are busy or lag.
   */
  async waitUntilIdle(timeoutMs = 60_000): Promise<void> {
    const systemActor = this.systemActor();
    const edges = this.processEdges();
    const deadline = Date.now() + timeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      this.throwUnreportedErrors();
      const before = await this.snapshots();
      const failed = before.find((snapshot) => snapshot.state === 'failed');
      if (failed !== undefined) throw failed.lastError?.error ?? new RunnerError(`${describeProcess(failed)} has failed`);
      const busy = before.filter((snapshot) => snapshot.state !== 'idle' || snapshot.pending);
      let lagging: string[] = [];
      if (busy.length === 0) {
        try {
          lagging = await this.laggingEdges(edges);
        } catch (error) {
          lagging = [`positions could not be read: ${(error as Error).message}`];
        }
        if (lagging.length === 0) {
          const after = await this.snapshots();
          const unchanged = after.every((snapshot, index) => snapshot.state === 'idle' && !snapshot.pending && snapshot.runs === before[index].runs);
          if (unchanged) return;
        } else {
          // Idle but behind: a prompt was lost, or a write was not yet visible when it came.
          tell(systemActor, { type: 'tick' });
        }
      }
      if (Date.now() > deadline) {
        const what = busy.length > 0 ? `still processing: ${busy.map(describeBusy).join('; ')}` : lagging.join('; ');
        throw new RunnerError(`waitUntilIdle timed out after ${timeoutMs} ms: ${what}`);
      }
      await sleep(wait);
    }
  }

  private makeApplications(pipelineId: number): Map<string, Application> {
    const applications = new Map<string, Application>();
    if (pipelineId === 0) {
      // The base class made one instance of each application, recording in pipeline 0.
      for (const name of this.system.applicationNames) applications.set(name, this.application(name));
      return applications;
    }
    for (const name of this.system.applicationNames) {
      const cls = this.system.classOf(name);
      const app = new cls({ env: this.options.env, pipelineId });
      this.#ownApplications.push(app);
      applications.set(name, app);
    }
    for (const name of this.system.followers) {
      const follower = applications.get(name) as Follower;
      for (const upstreamName of this.system.followsOf(name)) {
        const upstream = applications.get(upstreamName)!;
        follower.follow(upstreamName, upstream.recorder, upstream.mapper);
      }
    }
    return applications;
  }

  /** Drains and stops the actors bottom-up, then the runner's own nact system, then its applications. */
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
      await Promise.allSettled(this.#ownApplications.splice(0).map((app) => app.close()));
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

  private applicationIn(name: string, pipelineId: number): Application {
    const applications = this.#pipelines.get(pipelineId);
    if (applications === undefined) {
      throw new RunnerError(`pipeline ${String(pipelineId)} is not run by this runner (it runs: ${this.pipelineIds.join(', ')})`);
    }
    return applications.get(name)!;
  }

  /** Every (follower, upstream, pipeline) this runner processes. */
  private processEdges(): Edge[] {
    const edges: Edge[] = [];
    for (const pipelineId of this.pipelineIds) {
      for (const name of this.system.followers) {
        const follower = this.applicationIn(name, pipelineId) as Follower;
        for (const upstreamName of this.system.followsOf(name)) edges.push({ follower, upstreamName, pipelineId });
      }
    }
    return edges;
  }

  private snapshots(): Promise<ProcessSnapshot[]> {
    return ask<SystemMessage, ProcessSnapshot[]>(this.systemActor(), (replyTo) => ({ type: 'status', replyTo }), STATUS_TIMEOUT_MS);
  }
}

function describeProcess(snapshot: ProcessSnapshot): string {
  return `${snapshot.applicationName} (pipeline ${snapshot.pipelineId})`;
}

function describeBusy(snapshot: ProcessSnapshot): string {
  const after = snapshot.state === 'backing-off' && snapshot.lastError ? ` after ${snapshot.lastError.message}` : '';
  return `${describeProcess(snapshot)} is ${snapshot.state}${after}`;
}
