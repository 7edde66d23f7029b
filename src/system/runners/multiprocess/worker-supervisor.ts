import { RunnerError } from '../../errors';
import type { Follower } from '../../follower';
import {
  activityOf,
  failure,
  initialMasterState,
  ok,
  transition,
  type ExpectedSkip,
  type MasterEffect,
  type MasterState,
  type ProcessObserver,
  type Reply,
  type SupervisionOptions,
  type SupervisorMessage,
} from '../../supervision';
import type { ProcessActivity } from '../status';
import { startServingWorker, WorkerSlave, type ServingWorker, type WorkerSettings } from './worker-slave';

/** Where the machine's answers go: a callback. */
type Answer = (reply: Reply<unknown>) => void;

export interface SupervisorDependencies extends WorkerSettings {
  /** The parent's instance of the follower: it reads positions, it never processes. */
  readonly follower: Follower;
  readonly supervision: SupervisionOptions;
  /** The worker's follower recorded notifications in its log. */
  readonly recorded: (count: number, lastNotificationId: number) => void;
  /** The process failed (a policy threw, the worker died): for `errors` and the warnings. */
  readonly failed: (error: Error) => void;
  /** Told of every transition and of the workers (logs and metrics). */
  readonly observer?: ProcessObserver;
  readonly random?: () => number;
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
  #worker: ServingWorker | undefined;
  #backoff: NodeJS.Timeout | undefined;
  /** The newest notification prompted per upstream since the last run: the run must see it. */
  #waitFor: Record<string, number> = {};

  constructor(private readonly deps: SupervisorDependencies) {}

  get applicationName(): string {
    return this.deps.follower.name;
  }

  get pipelineId(): number {
    return this.deps.init.pipelineId;
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
    return this.#worker?.slave.ready ?? Promise.resolve();
  }

  activity(): ProcessActivity {
    const activity = activityOf(this.#state, { applicationName: this.applicationName, pipelineId: this.pipelineId });
    return this.#worker === undefined ? activity : { ...activity, pid: this.#worker.slave.pid };
  }

  restart(): Promise<void> {
    return this.ask((replyTo) => ({ type: 'restart', replyTo })) as Promise<void>;
  }

  skip(reason: string, expected: ExpectedSkip = {}): Promise<number> {
    return this.ask((replyTo) => ({ type: 'skip', reason, ...expected, replyTo })) as Promise<number>;
  }

  /**
   * Lets the run in flight finish its batch, then stops the worker (killed after the grace period);
   * with `now`, kills the worker first (another member may already process this slot).
   */
  async stop(options: { now?: boolean } = {}): Promise<void> {
    if (options.now) await this.#worker?.slave.kill();
    await this.ask((replyTo) => ({ type: 'stop', replyTo }));
    await this.#worker?.slave.stop();
  }

  private ask(make: (replyTo: Answer) => SupervisorMessage<Answer>): Promise<unknown> {
    return new Promise((resolve, reject) => this.tell(make((reply) => (reply.ok ? resolve(reply.value) : reject(reply.error)))));
  }

  private tell(message: SupervisorMessage<Answer>): void {
    const { follower, supervision } = this.deps;
    const next = transition(this.#state, message, {
      applicationName: follower.name,
      pipelineId: this.pipelineId,
      supervision,
      now: Date.now(),
      random: this.deps.random ?? Math.random,
    });
    const before = this.#state;
    this.#state = next.state;
    this.deps.observer?.transitioned(before, message, next);
    for (const effect of next.effects) this.perform(effect);
  }

  private perform(effect: MasterEffect<Answer>): void {
    switch (effect.type) {
      case 'spawn-slave':
        if (this.#worker?.slave.alive) {
          // The worker outlived a failed run: it starts again from the recorded positions.
          this.#worker.generation = effect.generation;
          this.#worker.slave.reset();
        } else {
          this.#worker = this.spawn(effect.generation);
        }
        return;
      case 'run': {
        // A worker that has just ended is gone before the machine hears of it (slave-exited comes
        // after its positions are read): the run is then that worker's crash.
        const waitFor = this.#waitFor;
        this.#waitFor = {};
        this.#worker?.slave.run(effect.runId, waitFor);
        return;
      }
      case 'skip': {
        const { upstreamName, notificationId, reason, replyTo } = effect;
        const skipped =
          this.#worker?.slave.skip(upstreamName, notificationId, reason) ??
          Promise.reject(new RunnerError(`the worker of ${this.applicationName} (pipeline ${this.pipelineId}) has ended: try again`));
        skipped.then(
          (id) => replyTo(ok(id)),
          (error: unknown) => replyTo(failure(error)),
        );
        return;
      }
      case 'stop-slave':
        void this.#worker?.slave.stop();
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
        void this.#worker?.slave.stop();
        return;
      case 'reply':
        effect.replyTo(effect.answer);
        return;
      case 'failed':
        this.deps.failed(effect.error);
        return;
    }
  }

  /** A new worker serving slave `generation` (and the generations after it, if it outlives failed runs). */
  private spawn(generation: number): ServingWorker {
    return startServingWorker({
      generation,
      follower: this.deps.follower,
      pipelineId: this.pipelineId,
      spawn: (events) => new WorkerSlave(this.deps, events),
      tell: (message) => this.tell(message),
      state: () => this.#state,
      recorded: this.deps.recorded,
      observer: this.deps.observer,
      gone: (worker) => {
        if (this.#worker === worker) this.#worker = undefined;
      },
    });
  }
}
