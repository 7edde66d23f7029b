import {
  activityOf,
  initialMasterState,
  RunnerError,
  transition,
  type Follower,
  type MasterEffect,
  type MasterState,
  type ProcessObserver,
  startServingWorker,
  type ServingWorker,
  type SupervisionOptions,
} from '../system';
import type { ProcessWorkers } from './process-workers';
import { spawnProcessSlave } from './process-slave';
import type { MasterMessage, SlaveMessage } from './protocols';
import { failure, ok, reply, spawnActor, stopActor, tell, type ActorRef, type ParentRef, type ReplyTo } from './refs';

export interface MasterDependencies {
  readonly follower: Follower;
  readonly pipelineId: number;
  readonly supervision: SupervisionOptions;
  /** Told of an error in the master's own code (a bug): the master resumes with its state as it was. */
  readonly onFault: (error: Error) => void;
  /** Told of every failure of the process (its slave crashed). */
  readonly onFailure?: (error: Error) => void;
  /** Told of every transition, and of the workers of process slaves (logs and metrics). */
  readonly observer?: ProcessObserver;
  /** For tests: the source of jitter (default Math.random). */
  readonly random?: () => number;
  /** Slaves in worker processes instead of actors, with what their followers record. */
  readonly workers?: {
    readonly pool: ProcessWorkers;
    readonly recorded: (count: number, lastNotificationId: number) => void;
  };
}

/**
 * ProcessMaster: the supervisor of one process application in one pipeline. Its decisions are the
 * pure state machine of process-machine.ts; this actor feeds it messages and performs the effects
 * it returns: it spawns and stops slaves (which do the I/O, so the master always answers
 * promptly), tells them to run or skip, keeps the backoff timer, and answers requests.
 */
export function spawnProcessMaster(parent: ParentRef, name: string, deps: MasterDependencies): ActorRef<MasterMessage> {
  const { follower, pipelineId, supervision } = deps;
  const random = deps.random ?? Math.random;
  const slaves = new Map<number, ActorRef<SlaveMessage>>();
  let backoffTimer: NodeJS.Timeout | undefined;
  /** Aborted on stop, so that a run in flight ends after its current batch instead of the whole backlog. */
  const stopRequested = new AbortController();
  /** With process slaves: the worker now doing the work, and the slave generation it serves. */
  let worker: ServingWorker | undefined;
  /** The machine's state as of the last transition (a worker's end is judged by it). */
  let current: MasterState<ReplyTo<any>> = initialMasterState;

  /** A new worker serving slave `generation` (and the generations after it, if it outlives failed runs). */
  const spawnWorker = (generation: number, self: ActorRef<MasterMessage>): ServingWorker =>
    startServingWorker({
      generation,
      follower,
      pipelineId,
      spawn: (events) => deps.workers!.pool.spawn(follower.name, pipelineId, events),
      tell: (message) => tell(self, message),
      state: () => current,
      recorded: deps.workers!.recorded,
      observer: deps.observer,
      gone: (ended) => {
        if (worker === ended) worker = undefined;
      },
    });

  const perform = (effect: MasterEffect<ReplyTo<any>>, self: ActorRef<MasterMessage>): void => {
    switch (effect.type) {
      case 'spawn-slave':
        if (deps.workers === undefined) {
          slaves.set(
            effect.generation,
            spawnProcessSlave(self, `slave-${effect.generation}`, { follower, pipelineId, master: self, stopping: stopRequested.signal }),
          );
        } else if (worker?.slave.alive) {
          // The worker outlived a failed run: it starts again from the recorded positions.
          worker.generation = effect.generation;
          worker.slave.reset();
        } else {
          worker = spawnWorker(effect.generation, self);
        }
        return;
      case 'run':
        // A worker that has just ended is gone before the master hears of it (slave-exited comes
        // after its positions are read): the run is then that worker's crash.
        if (deps.workers !== undefined) worker?.slave.run(effect.runId);
        else tell(slaves.get(effect.generation)!, { type: 'run', runId: effect.runId });
        return;
      case 'skip': {
        const { upstreamName, notificationId, reason, replyTo } = effect;
        if (deps.workers !== undefined) {
          const skipped = worker?.slave.skip(upstreamName, notificationId, reason) ?? Promise.reject(new RunnerError(`the worker of ${follower.name} (pipeline ${pipelineId}) has ended: try again`));
          skipped.then(
            (id) => reply(replyTo, ok(id)),
            (error: unknown) => reply(replyTo, failure(error)),
          );
        } else {
          tell(slaves.get(effect.generation)!, { type: 'skip', upstreamName, notificationId, reason, replyTo });
        }
        return;
      }
      case 'stop-slave': {
        void worker?.slave.stop();
        const slave = slaves.get(effect.generation);
        slaves.delete(effect.generation);
        if (slave !== undefined) stopActor(slave);
        return;
      }
      case 'schedule-backoff':
        backoffTimer = setTimeout(() => tell(self, { type: 'backoff-elapsed', runId: effect.runId }), effect.delayMs);
        return;
      case 'cancel-backoff':
        clearTimeout(backoffTimer);
        backoffTimer = undefined;
        return;
      case 'abort-runs':
        stopRequested.abort();
        void worker?.slave.stop(); // it finishes the batch in flight, then its run reports finished
        return;
      case 'reply':
        reply(effect.replyTo, effect.answer);
        return;
      case 'failed':
        deps.onFailure?.(effect.error);
        return;
    }
  };

  return spawnActor<MasterState<ReplyTo<any>>, MasterMessage>(
    parent,
    name,
    (state, message, ctx) => {
      // A crashed slave is stopped by nact: forget it.
      if (message.type === 'slave-crashed' && state.slave !== undefined && message.runId === state.runId) slaves.delete(state.slave);
      if (message.type === 'status' && worker !== undefined) {
        // A process slave's pid is part of what status shows.
        reply(message.replyTo, ok({ ...activityOf(state, { applicationName: follower.name, pipelineId }), pid: worker.slave.pid }));
        return state;
      }
      const next = transition<ReplyTo<any>>(state, message, { applicationName: follower.name, pipelineId, supervision, now: Date.now(), random });
      current = next.state;
      deps.observer?.transitioned(state, message, next);
      for (const effect of next.effects) perform(effect, ctx.self);
      return next.state;
    },
    {
      initialState: initialMasterState,
      onCrash: (_message, error, ctx) => {
        deps.onFault(error);
        return ctx.resume;
      },
    },
  );
}

