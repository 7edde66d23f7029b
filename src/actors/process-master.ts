import { produce } from 'immer';
import { describeFailure, PolicyError, RunnerError, type Follower, type ProcessFailure, type ProcessState } from '../system';
import { spawnProcessSlave } from './process-slave';
import type { MasterMessage, ProcessSnapshot, SlaveMessage } from './protocols';
import { failure, ok, reply, spawnActor, stopActor, tell, type ActorRef, type ParentRef, type ReplyTo, type TypedContext } from './refs';
import { backoffDelay, restartsWithin, type SupervisionOptions } from './supervision';

export interface MasterDependencies {
  readonly follower: Follower;
  readonly pipelineId: number;
  readonly supervision: SupervisionOptions;
  /** Told of an error in the master's own code (a bug): the master resumes with its state as it was. */
  readonly onFault: (error: Error) => void;
  /** Told of every failure of the process (its slave crashed). */
  readonly onFailure?: (error: Error) => void;
  /** For tests: the source of jitter (default Math.random). */
  readonly random?: () => number;
}

/** The master's state, changed only with immer's `produce`. */
export interface MasterState {
  readonly phase: ProcessState;
  /** Id of the latest run started; answers about older runs are ignored. */
  readonly runId: number;
  /** How many slaves were spawned (names them). */
  readonly generation: number;
  readonly slave?: ActorRef<SlaveMessage>;
  /** A prompt came while running or backing off: run again afterwards. */
  readonly pending: boolean;
  readonly restarts: number;
  /** Times of the restarts that count against maxRestarts (cleared by progress). */
  readonly recentRestarts: readonly number[];
  /** Failures since the last progress: the exponent of the backoff. */
  readonly failuresWithoutProgress: number;
  readonly lastError?: ProcessFailure;
  /** `upstream:notification` of the last policy failure, to tell a new failure from a repeat. */
  readonly lastPolicyFailure?: string;
  /** A stop was asked for: no more runs start. */
  readonly stopping: boolean;
  readonly stopWaiters: ReadonlyArray<ReplyTo<void>>;
}

export const initialMasterState: MasterState = {
  phase: 'idle',
  runId: 0,
  generation: 0,
  pending: false,
  restarts: 0,
  recentRestarts: [],
  failuresWithoutProgress: 0,
  stopping: false,
  stopWaiters: [],
};

type Context = TypedContext<MasterMessage>;

/**
 * ProcessMaster: the supervisor and state machine of one process application in one pipeline.
 *
 *   idle ──prompt──▶ running ──run-finished──▶ idle (or running again, if prompted meanwhile)
 *   running ──slave-crashed──▶ backing-off ──backoff-elapsed──▶ running (a new slave)
 *   running ──slave-crashed, past maxRestarts within withinMs──▶ failed
 *   failed ──restart / skip──▶ running
 *   any ──stop──▶ stopped (after the run in flight, if any, has finished)
 *
 * Prompts are coalesced: at most one slave run is in flight, and any number of prompts during it
 * make exactly one more run. Restarts back off exponentially with jitter; a failure on a different
 * notification than the last one is progress, which resets the backoff and the restart count, so
 * a policy that fails now and then keeps going while one that fails on one notification stops.
 * The master does no I/O itself, so it always answers promptly.
 */
export function spawnProcessMaster(parent: ParentRef, name: string, deps: MasterDependencies): ActorRef<MasterMessage> {
  const { follower, pipelineId, supervision } = deps;
  const random = deps.random ?? Math.random;
  let backoffTimer: NodeJS.Timeout | undefined;
  /** Aborted on stop, so that a run in flight ends after its current batch instead of the whole backlog. */
  const stopRequested = new AbortController();

  const clearBackoff = () => {
    clearTimeout(backoffTimer);
    backoffTimer = undefined;
  };

  const snapshot = (state: MasterState): ProcessSnapshot => ({
    pipelineId,
    applicationName: follower.name,
    state: state.phase,
    restarts: state.restarts,
    runs: state.runId,
    pending: state.pending,
    lastError: state.lastError,
  });

  /** The state with a slave: the current one, or a new one (named by its generation). */
  const withSlave = (state: MasterState, ctx: Context): MasterState & { readonly slave: ActorRef<SlaveMessage> } => {
    if (state.slave !== undefined) return state as MasterState & { readonly slave: ActorRef<SlaveMessage> };
    const generation = state.generation + 1;
    const slave = spawnProcessSlave(ctx.self, `slave-${generation}`, { follower, pipelineId, master: ctx.self, stopping: stopRequested.signal });
    return produce(state, (draft) => {
      draft.slave = slave;
      draft.generation = generation;
    }) as MasterState & { readonly slave: ActorRef<SlaveMessage> };
  };

  const startRun = (state: MasterState, ctx: Context): MasterState => {
    clearBackoff();
    const ready = withSlave(state, ctx);
    const runId = ready.runId + 1;
    tell(ready.slave, { type: 'run', runId });
    return produce(ready, (draft) => {
      draft.runId = runId;
      draft.phase = 'running';
      draft.pending = false;
    });
  };

  const finishStopping = (state: MasterState): MasterState => {
    clearBackoff();
    if (state.slave !== undefined) stopActor(state.slave);
    for (const waiter of state.stopWaiters) reply(waiter, ok(undefined));
    return produce(state, (draft) => {
      draft.slave = undefined;
      draft.phase = 'stopped';
      draft.pending = false;
      draft.stopWaiters = [];
    });
  };

  const fresh = (state: MasterState): MasterState =>
    produce(state, (draft) => {
      draft.recentRestarts = [];
      draft.failuresWithoutProgress = 0;
      draft.lastPolicyFailure = undefined;
    });

  const crashed = (state: MasterState, error: Error, ctx: Context): MasterState => {
    deps.onFailure?.(error);
    const now = Date.now();
    const key = error instanceof PolicyError ? `${error.upstreamName}:${error.notificationId}` : undefined;
    const progress = key !== undefined && key !== state.lastPolicyFailure;
    const next = produce(progress ? fresh(state) : state, (draft) => {
      draft.slave = undefined; // nact stops a slave whose crash handler says so
      draft.lastError = describeFailure(error, pipelineId, now);
      if (key !== undefined) draft.lastPolicyFailure = key;
      draft.failuresWithoutProgress += 1;
      draft.recentRestarts = restartsWithin(supervision, draft.recentRestarts, now);
      draft.pending = false;
    });
    if (next.stopping) return finishStopping(next);
    if (next.recentRestarts.length >= supervision.maxRestarts) {
      return produce(next, (draft) => {
        draft.phase = 'failed';
      });
    }
    const runId = next.runId;
    const self = ctx.self;
    clearBackoff();
    backoffTimer = setTimeout(() => tell(self, { type: 'backoff-elapsed', runId }), backoffDelay(supervision, next.failuresWithoutProgress, random));
    return produce(next, (draft) => {
      draft.phase = 'backing-off';
      draft.restarts += 1;
      draft.recentRestarts.push(now);
    });
  };

  const notFailed = (state: MasterState, what: string): Error =>
    new RunnerError(`cannot ${what} ${follower.name} (pipeline ${pipelineId}): it is ${state.stopping ? 'stopping' : state.phase}, not failed`);

  const behaviour = (state: MasterState, message: MasterMessage, ctx: Context): MasterState => {
    switch (message.type) {
      case 'prompt':
        if (state.stopping) return state;
        if (state.phase === 'idle') return startRun(state, ctx);
        if ((state.phase === 'running' || state.phase === 'backing-off') && !state.pending) {
          return produce(state, (draft) => {
            draft.pending = true;
          });
        }
        return state;

      case 'run-finished': {
        if (message.runId !== state.runId || state.phase !== 'running') return state;
        const done = fresh(state);
        if (done.stopping) return finishStopping(done);
        if (done.pending) return startRun(done, ctx);
        return produce(done, (draft) => {
          draft.phase = 'idle';
        });
      }

      case 'slave-crashed':
        if (message.runId !== state.runId || state.phase !== 'running') return state;
        return crashed(state, message.error, ctx);

      case 'backoff-elapsed':
        if (message.runId !== state.runId || state.phase !== 'backing-off' || state.stopping) return state;
        return startRun(state, ctx);

      case 'restart':
        if (state.phase !== 'failed' || state.stopping) {
          reply(message.replyTo, failure(notFailed(state, 'restart')));
          return state;
        }
        reply(message.replyTo, ok(undefined));
        return startRun(fresh(state), ctx);

      case 'skip': {
        const failed = state.lastError;
        if (state.phase !== 'failed' || state.stopping) {
          reply(message.replyTo, failure(notFailed(state, 'skip a notification of')));
          return state;
        }
        if (failed?.upstreamName === undefined || failed.notificationId === undefined) {
          reply(
            message.replyTo,
            failure(new RunnerError(`${follower.name} (pipeline ${pipelineId}) did not fail on a notification, so none can be skipped: restart it instead`)),
          );
          return state;
        }
        // The slave skips first, then runs: its mailbox keeps the order. The failure is behind the
        // process once the notification is skipped, so status no longer shows it.
        const ready = withSlave(
          produce(fresh(state), (draft) => {
            draft.lastError = undefined;
          }),
          ctx,
        );
        tell(ready.slave, {
          type: 'skip',
          upstreamName: failed.upstreamName,
          notificationId: failed.notificationId,
          reason: message.reason,
          replyTo: message.replyTo,
        });
        return startRun(ready, ctx);
      }

      case 'status':
        reply(message.replyTo, ok(snapshot(state)));
        return state;

      case 'stop': {
        clearBackoff();
        stopRequested.abort();
        const stopping = produce(state, (draft) => {
          draft.stopping = true;
          draft.stopWaiters.push(message.replyTo);
        });
        return state.phase === 'running' ? stopping : finishStopping(stopping);
      }
    }
  };

  return spawnActor<MasterState, MasterMessage>(parent, name, behaviour, {
    initialState: initialMasterState,
    onCrash: (_message, error, ctx) => {
      deps.onFault(error);
      return ctx.resume;
    },
  });
}
