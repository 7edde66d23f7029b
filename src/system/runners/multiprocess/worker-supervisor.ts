import { EventSourcingError } from '../../../domain';
import type { Follower } from '../../follower';
import {
  activityOf,
  failure,
  initialMasterState,
  ok,
  transition,
  type MasterEffect,
  type MasterState,
  type Positions,
  type Reply,
  type SupervisionOptions,
  type SupervisorMessage,
} from '../../supervision';
import type { ProcessActivity } from '../status';
import { errorFrom, type FromWorker, type WorkerInit } from './protocol';
import { spawnWorker, type Isolation, type WorkerHandle } from './spawn-worker';

/** How long a new worker may take to load its modules before it is taken for hung. */
const STARTUP_TIMEOUT_MS = 60_000;

/** Where the machine's answers go: a callback. */
type Answer = (reply: Reply<unknown>) => void;

/** A worker's process ended when nobody asked it to (a crash, kill -9, out of memory, a missed heartbeat). */
export class WorkerExitError extends EventSourcingError {
  override name = 'WorkerExitError';
}

export interface HeartbeatOptions {
  /** How often the runner pings each worker (default 1000 ms). */
  readonly intervalMs: number;
  /** A worker that has not answered for this long is killed and replaced (default 10,000 ms). */
  readonly timeoutMs: number;
}

export interface SupervisorDependencies {
  /** The parent's instance of the follower: it reads positions, it never processes. */
  readonly follower: Follower;
  readonly pipelineId: number;
  readonly init: WorkerInit;
  readonly isolation: Isolation;
  readonly supervision: SupervisionOptions;
  readonly heartbeat: HeartbeatOptions;
  /** How long a worker told to stop may take to exit before it is killed. */
  readonly stopGraceMs: number;
  /** The worker's follower recorded notifications in its log. */
  readonly recorded: (count: number, lastNotificationId: number) => void;
  /** The process failed (a policy threw, the worker died): for `errors` and the warnings. */
  readonly failed: (error: Error) => void;
  readonly random?: () => number;
}

/** One worker process (or thread) and what the supervisor knows of it. */
interface Live {
  readonly handle: WorkerHandle;
  /** The machine's slave generation this worker serves now (a worker is reused after a failed run). */
  generation: number;
  ready: Promise<void>;
  isReady: boolean;
  stopping: boolean;
  exited: Promise<void>;
  lastHeard: number;
  /** Why the supervisor killed it, if it did. */
  killedBecause?: string;
}

/**
 * Supervises one process application in one pipeline whose work runs in a worker of its own. Its
 * decisions are the same pure machine as the ActorRunner's masters (supervision/machine.ts): a
 * slave is a worker, a run is a `run` message, a failed run or a worker that ended is a crash,
 * restarted with backoff and jitter from the tracking positions, and `failed` past the limit.
 * After a failed run the worker itself is kept (it starts again from the recorded positions); a
 * worker that ended is replaced by a new one.
 */
export class WorkerSupervisor {
  #state: MasterState<Answer> = initialMasterState;
  #live: Live | undefined;
  #backoff: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #seq = 0;
  /** The newest notification prompted per upstream since the last run: the run must see it. */
  #waitFor: Record<string, number> = {};
  #requests = 0;
  readonly #skips = new Map<number, Answer>();

  constructor(private readonly deps: SupervisorDependencies) {}

  get applicationName(): string {
    return this.deps.follower.name;
  }

  get pipelineId(): number {
    return this.deps.pipelineId;
  }

  /** Prompted: something new may be upstream. */
  prompt(upstreamName?: string, lastNotificationId?: number): void {
    if (upstreamName !== undefined && lastNotificationId !== undefined) {
      this.#waitFor[upstreamName] = Math.max(this.#waitFor[upstreamName] ?? 0, lastNotificationId);
    }
    this.tell({ type: 'prompt' });
  }

  /** Resolves once the worker that now runs is ready; rejects with why it could not start. */
  started(): Promise<void> {
    return this.#live?.ready ?? Promise.resolve();
  }

  activity(): ProcessActivity {
    const activity = activityOf(this.#state, { applicationName: this.applicationName, pipelineId: this.pipelineId });
    return this.#live === undefined ? activity : { ...activity, pid: this.#live.handle.pid };
  }

  restart(): Promise<void> {
    return this.ask((replyTo) => ({ type: 'restart', replyTo })) as Promise<void>;
  }

  skip(reason: string): Promise<number> {
    return this.ask((replyTo) => ({ type: 'skip', reason, replyTo })) as Promise<number>;
  }

  /** Lets the run in flight finish its batch, stops the worker (killing it after the grace period). */
  async stop(): Promise<void> {
    await this.ask((replyTo) => ({ type: 'stop', replyTo }));
    clearInterval(this.#heartbeat);
    const live = this.#live;
    if (live !== undefined) await this.stopWorker(live);
  }

  private ask(make: (replyTo: Answer) => SupervisorMessage<Answer>): Promise<unknown> {
    return new Promise((resolve, reject) => this.tell(make((reply) => (reply.ok ? resolve(reply.value) : reject(reply.error)))));
  }

  private tell(message: SupervisorMessage<Answer>): void {
    const { follower, pipelineId, supervision } = this.deps;
    const next = transition(this.#state, message, {
      applicationName: follower.name,
      pipelineId,
      supervision,
      now: Date.now(),
      random: this.deps.random ?? Math.random,
    });
    this.#state = next.state;
    for (const effect of next.effects) this.perform(effect);
  }

  private perform(effect: MasterEffect<Answer>): void {
    switch (effect.type) {
      case 'spawn-slave':
        if (this.#live !== undefined && !this.#live.stopping) {
          // The worker outlived a failed run: it starts again from the recorded positions.
          this.#live.generation = effect.generation;
          this.#live.handle.send({ type: 'reset' });
        } else {
          this.#live = this.spawn(effect.generation);
        }
        return;
      case 'run': {
        const waitFor = this.#waitFor;
        this.#waitFor = {};
        this.#live?.handle.send({ type: 'run', runId: effect.runId, waitFor });
        return;
      }
      case 'skip': {
        const requestId = ++this.#requests;
        this.#skips.set(requestId, effect.replyTo);
        const { upstreamName, notificationId, reason } = effect;
        this.#live?.handle.send({ type: 'skip', requestId, upstreamName, notificationId, reason });
        return;
      }
      case 'stop-slave':
        if (this.#live !== undefined) void this.stopWorker(this.#live);
        return;
      case 'schedule-backoff':
        this.#backoff = setTimeout(() => this.tell({ type: 'backoff-elapsed', runId: effect.runId }), effect.delayMs);
        return;
      case 'cancel-backoff':
        clearTimeout(this.#backoff);
        this.#backoff = undefined;
        return;
      case 'abort-runs':
        // The worker stops after the batch in flight; its run then reports finished.
        if (this.#live !== undefined && !this.#live.stopping) {
          this.#live.stopping = true;
          this.#live.handle.send({ type: 'stop' });
        }
        return;
      case 'reply':
        effect.replyTo(effect.answer);
        return;
      case 'failed':
        this.deps.failed(effect.error);
        return;
    }
  }

  private spawn(generation: number): Live {
    const handle = spawnWorker(this.deps.init, this.deps.isolation);
    let exited!: () => void;
    let settleReady!: (error?: Error) => void;
    const live: Live = {
      handle,
      generation,
      isReady: false,
      stopping: false,
      lastHeard: Date.now(),
      exited: new Promise((resolve) => (exited = resolve)),
      ready: new Promise((resolve, reject) => (settleReady = (error) => (error === undefined ? resolve() : reject(error)))),
    };
    live.ready.catch(() => undefined); // also reported as the worker's exit
    handle.onMessage((message) => {
      live.lastHeard = Date.now();
      this.received(live, message, settleReady);
    });
    handle.onExit((why) => {
      exited();
      const error = new WorkerExitError(
        `the worker of ${this.applicationName} (pipeline ${this.pipelineId}, pid ${handle.pid}) ` +
          (live.killedBecause === undefined ? why : `was killed: ${live.killedBecause}`),
      );
      settleReady(error);
      if (this.#live === live) this.#live = undefined;
      if (live.stopping && this.#state.phase !== 'stopping') return;
      void this.positions().then((positions) => this.tell({ type: 'slave-exited', generation: live.generation, error, positions }));
    });
    this.watch();
    return live;
  }

  private received(live: Live, message: FromWorker, settleReady: (error?: Error) => void): void {
    switch (message.type) {
      case 'ready':
        live.isReady = true;
        settleReady();
        return;
      case 'start-failed':
        live.killedBecause = undefined;
        settleReady(errorFrom(message.error));
        return;
      case 'run-finished':
        this.tell({ type: 'run-finished', runId: message.runId });
        return;
      case 'run-failed':
        this.tell({ type: 'slave-crashed', runId: message.runId, error: errorFrom(message.error), positions: message.positions });
        return;
      case 'recorded':
        this.deps.recorded(message.count, message.lastNotificationId);
        return;
      case 'skipped':
      case 'skip-failed': {
        const answer = this.#skips.get(message.requestId);
        this.#skips.delete(message.requestId);
        answer?.(message.type === 'skipped' ? ok(message.notificationId) : failure(errorFrom(message.error)));
        return;
      }
      case 'pong':
        return;
    }
  }

  /** Pings the live worker; one silent for longer than the timeout is killed (its exit is a crash). */
  private watch(): void {
    if (this.#heartbeat !== undefined) return;
    const { intervalMs, timeoutMs } = this.deps.heartbeat;
    this.#heartbeat = setInterval(() => {
      const live = this.#live;
      if (live === undefined) return;
      // A worker still loading its modules has longer: tsx may be compiling them.
      const limit = live.isReady ? timeoutMs : Math.max(timeoutMs, STARTUP_TIMEOUT_MS);
      if (Date.now() - live.lastHeard > limit && live.killedBecause === undefined) {
        live.killedBecause = live.isReady ? `it answered no heartbeat for ${timeoutMs} ms` : `it was not ready within ${limit} ms`;
        live.handle.kill();
        return;
      }
      live.handle.send({ type: 'ping', seq: ++this.#seq });
    }, intervalMs);
    this.#heartbeat.unref();
  }

  private async stopWorker(live: Live): Promise<void> {
    if (!live.stopping) {
      live.stopping = true;
      live.handle.send({ type: 'stop' });
    }
    const grace = setTimeout(() => live.handle.kill(), this.deps.stopGraceMs);
    await live.exited;
    clearTimeout(grace);
  }

  /** The positions as recorded (where a worker that ended left them). */
  private async positions(): Promise<Positions> {
    const { follower, pipelineId } = this.deps;
    const positions: Record<string, number> = {};
    await Promise.all(
      follower.upstreamNames.map(async (upstreamName) => {
        try {
          positions[upstreamName] = await follower.trackingPosition(upstreamName, pipelineId);
        } catch {
          // unknown: no progress is assumed
        }
      }),
    );
    return positions;
  }
}
