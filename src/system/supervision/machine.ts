import { RunnerError, SkipError } from '../errors';
import { describeFailure, type ProcessActivity, type ProcessFailure, type ProcessState } from '../runners/status';
import { failure, ok, type Reply } from './answer';
import { backoffDelay, restartsWithin, type SupervisionOptions } from './options';

/** Where each upstream's position stood, by upstream name (what a slave knew when it crashed). */
export type Positions = Readonly<Record<string, number>>;

/**
 * What a supervisor's state machine is told. `R` is where answers go: a nact reply address for the
 * ActorRunner's masters, a callback for the MultiprocessRunner's supervisors. A "slave" is whatever
 * does the supervised work: an actor, or a worker process.
 */
export type SupervisorMessage<R> =
  /** Something new may be upstream (a leader recorded, the tick, waitUntilIdle). */
  | { readonly type: 'prompt' }
  | { readonly type: 'run-finished'; readonly runId: number }
  /** The run failed and the slave stopped; where the positions stood. */
  | { readonly type: 'slave-crashed'; readonly runId: number; readonly error: Error; readonly positions: Positions }
  /** Slave `generation` is gone (its process exited or was killed), whether or not it was running. */
  | { readonly type: 'slave-exited'; readonly generation: number; readonly error: Error; readonly positions: Positions }
  | { readonly type: 'backoff-elapsed'; readonly runId: number }
  /** Leave `failed` and run again. */
  | { readonly type: 'restart'; readonly replyTo: R }
  /**
   * Leave `failed` by skipping the notification it failed on; answered with its id. With
   * `notificationId` (and `upstreamName`), only when that is the one it failed on.
   */
  | ({ readonly type: 'skip'; readonly reason: string; readonly replyTo: R } & ExpectedSkip)
  | { readonly type: 'status'; readonly replyTo: R }
  /** Start no more runs, let the one in flight finish, stop the slave; answered when done. */
  | { readonly type: 'stop'; readonly replyTo: R };

/** What a skip may name: the notification the caller saw the process fail on (a stale request is refused). */
export interface ExpectedSkip {
  readonly upstreamName?: string;
  readonly notificationId?: number;
}

/** The master's state: what it knows of its process. Never changed in place. */
export interface MasterState<R = unknown> {
  readonly phase: ProcessState;
  /** Id of the latest run started; answers about older runs are ignored. */
  readonly runId: number;
  /** How many slaves were spawned (names them). */
  readonly generation: number;
  /** The generation of the slave alive now, if one is. */
  readonly slave?: number;
  /** A prompt came while running or backing off: run again afterwards. */
  readonly pending: boolean;
  readonly restarts: number;
  /** Times of the restarts that count against maxRestarts (cleared by progress). */
  readonly recentRestarts: readonly number[];
  /** Failures since the last progress: the exponent of the backoff. */
  readonly failuresWithoutProgress: number;
  readonly lastError?: ProcessFailure;
  /** The positions when the process last failed: a later failure beyond them is progress. */
  readonly positionsAtLastFailure?: Positions;
  /** Who asked the master to stop: answered once the run in flight has ended. */
  readonly stopWaiters: readonly R[];
}

export const initialMasterState: MasterState<never> = {
  phase: 'idle',
  runId: 0,
  generation: 0,
  pending: false,
  restarts: 0,
  recentRestarts: [],
  failuresWithoutProgress: 0,
  stopWaiters: [],
};

/** What the master's actor does after a transition (the transition itself does nothing). */
export type MasterEffect<R = unknown> =
  | { readonly type: 'spawn-slave'; readonly generation: number }
  | { readonly type: 'run'; readonly generation: number; readonly runId: number }
  | {
      readonly type: 'skip';
      readonly generation: number;
      readonly upstreamName: string;
      readonly notificationId: number;
      readonly reason: string;
      readonly replyTo: R;
    }
  | { readonly type: 'stop-slave'; readonly generation: number }
  | { readonly type: 'schedule-backoff'; readonly runId: number; readonly delayMs: number }
  | { readonly type: 'cancel-backoff' }
  /** Runs in flight end after their current batch. */
  | { readonly type: 'abort-runs' }
  | { readonly type: 'reply'; readonly replyTo: R; readonly answer: Reply<unknown> }
  /** The process failed (for warnings). */
  | { readonly type: 'failed'; readonly error: Error };

export interface Transition<R = unknown> {
  readonly state: MasterState<R>;
  readonly effects: readonly MasterEffect<R>[];
}

/** What a transition may depend on besides the state and the message. */
export interface MachineContext {
  readonly applicationName: string;
  readonly pipelineId: number;
  readonly supervision: SupervisionOptions;
  readonly now: number;
  /** The source of backoff jitter. */
  readonly random: () => number;
}

/** What status shows of a master's process. */
export function activityOf(state: MasterState<unknown>, context: Pick<MachineContext, 'applicationName' | 'pipelineId'>): ProcessActivity {
  const activity = {
    applicationName: context.applicationName,
    pipelineId: context.pipelineId,
    state: state.phase,
    restarts: state.restarts,
    runs: state.runId,
    pending: state.pending,
  };
  return state.lastError === undefined ? activity : { ...activity, lastError: state.lastError };
}

const stay = <R>(state: MasterState<R>, ...effects: MasterEffect<R>[]): Transition<R> => ({ state, effects });

/** Progress is forgotten: the backoff starts again from its minimum, the restart window empties. */
const fresh = <R>(state: MasterState<R>): MasterState<R> => ({ ...state, recentRestarts: [], failuresWithoutProgress: 0, positionsAtLastFailure: undefined });

function startRun<R>(state: MasterState<R>): Transition<R> {
  const effects: MasterEffect<R>[] = [{ type: 'cancel-backoff' }];
  let { slave, generation } = state;
  if (slave === undefined) {
    generation += 1;
    slave = generation;
    effects.push({ type: 'spawn-slave', generation });
  }
  const runId = state.runId + 1;
  effects.push({ type: 'run', generation: slave, runId });
  return { state: { ...state, slave, generation, runId, phase: 'running', pending: false }, effects };
}

function finishStopping<R>(state: MasterState<R>, ...effects: MasterEffect<R>[]): Transition<R> {
  const all: MasterEffect<R>[] = [...effects, { type: 'cancel-backoff' }];
  if (state.slave !== undefined) all.push({ type: 'stop-slave', generation: state.slave });
  for (const replyTo of state.stopWaiters) all.push({ type: 'reply', replyTo, answer: ok(undefined) });
  return { state: { ...state, slave: undefined, phase: 'stopped', pending: false, stopWaiters: [] }, effects: all };
}

/** Whether any upstream's position is beyond where it stood at the last failure (the first failure is). */
function progressed(before: Positions | undefined, now: Positions): boolean {
  if (before === undefined) return true;
  return Object.entries(now).some(([upstreamName, position]) => position > (before[upstreamName] ?? -1));
}

function crashed<R>(state: MasterState<R>, error: Error, positions: Positions, context: MachineContext): Transition<R> {
  const { now, supervision } = context;
  const base = progressed(state.positionsAtLastFailure, positions) ? fresh(state) : state;
  const next: MasterState<R> = {
    ...base,
    slave: undefined, // nact stops a slave whose crash handler says so; a worker that exited is gone
    lastError: describeFailure(error, context.pipelineId, now),
    positionsAtLastFailure: { ...base.positionsAtLastFailure, ...positions },
    failuresWithoutProgress: base.failuresWithoutProgress + 1,
    recentRestarts: restartsWithin(supervision, base.recentRestarts, now),
    pending: false,
  };
  const failed: MasterEffect<R> = { type: 'failed', error };
  if (next.phase === 'stopping') return finishStopping(next, failed);
  if (next.recentRestarts.length >= supervision.maxRestarts) return stay({ ...next, phase: 'failed' }, failed);
  const delayMs = backoffDelay(supervision, next.failuresWithoutProgress, context.random);
  return stay(
    { ...next, phase: 'backing-off', restarts: next.restarts + 1, recentRestarts: [...next.recentRestarts, now] },
    failed,
    { type: 'cancel-backoff' },
    { type: 'schedule-backoff', runId: next.runId, delayMs },
  );
}

function notFailed(state: MasterState<unknown>, what: string, context: MachineContext): Reply<never> {
  return failure(new RunnerError(`cannot ${what} ${context.applicationName} (pipeline ${context.pipelineId}): it is ${state.phase}, not failed`));
}

const stoppingOrStopped = (state: MasterState<unknown>) => state.phase === 'stopping' || state.phase === 'stopped';

/**
 * The ProcessMaster's state machine, as a pure function: the next state, and the effects for the
 * master's actor to perform.
 *
 *   idle ──prompt──▶ running ──run-finished──▶ idle (or running again, if prompted meanwhile)
 *   running ──slave-crashed──▶ backing-off ──backoff-elapsed──▶ running (a new slave)
 *   running ──slave-crashed, past maxRestarts within withinMs──▶ failed
 *   failed ──restart / skip──▶ running
 *   running ──stop──▶ stopping ──run-finished / slave-crashed──▶ stopped
 *   idle, backing-off, failed ──stop──▶ stopped
 *
 * Prompts are coalesced: at most one slave run is in flight, and any number of prompts during it
 * make exactly one more run. Restarts back off exponentially with jitter. Progress is measured by
 * position: a failure after the process moved any upstream's position beyond where it stood at the
 * last failure resets the backoff and the restart count, so a process that processes thousands and
 * then loses its connection starts again at the shortest backoff, while one that fails on one
 * notification again and again ends up `failed`.
 */
export function transition<R>(state: MasterState<R>, message: SupervisorMessage<R>, context: MachineContext): Transition<R> {
  switch (message.type) {
    case 'prompt':
      if (stoppingOrStopped(state)) return stay(state);
      if (state.phase === 'idle') return startRun(state);
      if ((state.phase === 'running' || state.phase === 'backing-off') && !state.pending) return stay({ ...state, pending: true });
      return stay(state);

    case 'run-finished': {
      if (message.runId !== state.runId || (state.phase !== 'running' && state.phase !== 'stopping')) return stay(state);
      const done = fresh(state);
      if (done.phase === 'stopping') return finishStopping(done);
      if (done.pending) return startRun(done);
      return stay({ ...done, phase: 'idle' });
    }

    case 'slave-crashed':
      if (message.runId !== state.runId || (state.phase !== 'running' && state.phase !== 'stopping')) return stay(state);
      return crashed(state, message.error, message.positions, context);

    case 'slave-exited':
      // A slave that dies while idle is restarted too, with backoff: it was meant to be there.
      if (message.generation !== state.slave) return stay(state);
      if (state.phase === 'idle' || state.phase === 'running' || state.phase === 'stopping') {
        return crashed(state, message.error, message.positions, context);
      }
      return stay({ ...state, slave: undefined });

    case 'backoff-elapsed':
      if (message.runId !== state.runId || state.phase !== 'backing-off') return stay(state);
      return startRun(state);

    case 'restart': {
      if (state.phase !== 'failed') return stay(state, { type: 'reply', replyTo: message.replyTo, answer: notFailed(state, 'restart', context) });
      const run = startRun(fresh(state));
      return { state: run.state, effects: [{ type: 'reply', replyTo: message.replyTo, answer: ok(undefined) }, ...run.effects] };
    }

    case 'skip': {
      if (state.phase !== 'failed') {
        return stay(state, { type: 'reply', replyTo: message.replyTo, answer: notFailed(state, 'skip a notification of', context) });
      }
      const failed = state.lastError;
      if (failed?.upstreamName === undefined || failed.notificationId === undefined) {
        const error = new RunnerError(
          `${context.applicationName} (pipeline ${context.pipelineId}) did not fail on a notification, so none can be skipped: restart it instead`,
        );
        return stay(state, { type: 'reply', replyTo: message.replyTo, answer: failure(error) });
      }
      const stale =
        (message.notificationId !== undefined && message.notificationId !== failed.notificationId) ||
        (message.upstreamName !== undefined && message.upstreamName !== failed.upstreamName);
      if (stale) {
        const error = new SkipError(
          `${context.applicationName} (pipeline ${context.pipelineId}) cannot skip notification ${String(message.notificationId)} of ` +
            `${message.upstreamName ?? failed.upstreamName}: it failed on notification ${failed.notificationId} of ${failed.upstreamName}`,
        );
        return stay(state, { type: 'reply', replyTo: message.replyTo, answer: failure(error) });
      }
      // The slave skips first, then runs: its mailbox keeps the order. The failure is behind the
      // process once the notification is skipped, so status no longer shows it.
      const run = startRun({ ...fresh(state), lastError: undefined });
      const [cancel, ...rest] = run.effects;
      const spawn = rest[0]?.type === 'spawn-slave' ? [rest.shift()!] : [];
      const skip: MasterEffect<R> = {
        type: 'skip',
        generation: run.state.slave!,
        upstreamName: failed.upstreamName,
        notificationId: failed.notificationId,
        reason: message.reason,
        replyTo: message.replyTo,
      };
      return { state: run.state, effects: [cancel, ...spawn, skip, ...rest] };
    }

    case 'status':
      return stay(state, { type: 'reply', replyTo: message.replyTo, answer: ok(activityOf(state, context)) });

    case 'stop': {
      const waiting: MasterState<R> = { ...state, stopWaiters: [...state.stopWaiters, message.replyTo] };
      if (state.phase === 'stopped') return finishStopping(waiting);
      if (state.phase === 'running' || state.phase === 'stopping') {
        return stay({ ...waiting, phase: 'stopping', pending: false }, { type: 'cancel-backoff' }, { type: 'abort-runs' });
      }
      return finishStopping(waiting, { type: 'abort-runs' });
    }
  }
}
