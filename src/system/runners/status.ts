import { serialisableError } from '../../domain';
import { PolicyError } from '../errors';
import type { Follower, FollowerKind } from '../follower';

/** Where a process application (one follower in one pipeline) stands. */
export type ProcessState = 'running' | 'idle' | 'backing-off' | 'failed' | 'stopping' | 'stopped';

/** The last failure of a process. */
export interface ProcessFailure {
  /** The error itself (a PolicyError, an OperationalError, ...); JSON shows its `{ name, message }`. */
  readonly error: Error;
  readonly message: string;
  /** When the runner learnt of it (milliseconds since the epoch). */
  readonly at: number;
  /** The notification it failed on, when the failure was a policy's (PolicyError). */
  readonly upstreamName?: string;
  readonly notificationId?: number;
  readonly pipelineId: number;
}

/** What a runner knows of a process besides its positions. */
export interface ProcessActivity {
  readonly applicationName: string;
  readonly pipelineId: number;
  readonly state: ProcessState;
  /** Times processing was retried after a failure, since the runner started. */
  readonly restarts: number;
  /** Runs started since the runner started (changes whenever anything is processed). */
  readonly runs: number;
  /** Whether a prompt came that the process has not taken up yet (another run follows). */
  readonly pending: boolean;
  readonly lastError?: ProcessFailure;
  /** Where the process runs, when not in the runner's own thread: the OS process id (a thread's id for a worker thread). */
  readonly pid?: number;
}

/** One upstream log of a process application, in one pipeline. */
export interface UpstreamStatus {
  readonly upstreamName: string;
  /** The last notification processed (the tracking position); null when it could not be read. */
  readonly position: number | null;
  /** The upstream's last notification in this pipeline (recorder.maxNotificationId(pipelineId)). */
  readonly head: number | null;
  /** Notifications of this pipeline after the position, counted up to LAG_COUNT_LIMIT. */
  readonly lag: number | null;
  /** Why position, head or lag could not be read. */
  readonly error?: Error;
}

export interface ProcessStatus extends ProcessActivity {
  /** What the process writes: events of its own ('process'), or a view ('projection'). */
  readonly kind: FollowerKind;
  readonly upstreams: readonly UpstreamStatus[];
  /** The sum of the upstreams' lags (null if one could not be read). */
  readonly lag: number | null;
}

export interface PipelineStatus<P extends ProcessStatus = ProcessStatus> {
  readonly pipelineId: number;
  readonly processes: readonly P[];
}

/** Every process application of every pipeline a runner runs, in one shape for every runner. */
export interface RunnerStatus<P extends ProcessStatus = ProcessStatus> {
  readonly pipelines: readonly PipelineStatus<P>[];
}

/** Lags are counted by reading the notifications after the position: at most this many. */
export const LAG_COUNT_LIMIT = 1000;

/** What status shows of an error: a PolicyError names the notification it failed on. */
export function describeFailure(error: unknown, pipelineId: number, at: number): ProcessFailure {
  const real = serialisableError(error);
  if (real instanceof PolicyError) {
    return {
      error: real,
      message: real.message,
      at,
      upstreamName: real.upstreamName,
      notificationId: real.notificationId,
      pipelineId: real.pipelineId,
    };
  }
  return { error: real, message: `${real.name}: ${real.message}`, at, pipelineId };
}

/** The positions, heads and lags of a follower's upstreams in one pipeline, read from the stores. */
export function upstreamStatuses(follower: Follower, pipelineId: number): Promise<UpstreamStatus[]> {
  return Promise.all(
    follower.upstreamNames.map(async (upstreamName): Promise<UpstreamStatus> => {
      try {
        const upstream = follower.upstreamRecorder(upstreamName);
        const [position, head] = await Promise.all([follower.trackingPosition(upstreamName, pipelineId), upstream.maxNotificationId(pipelineId)]);
        const lag =
          position === head
            ? 0
            : (await upstream.selectNotifications(position, LAG_COUNT_LIMIT, { inclusiveOfStart: false, pipelineId })).length;
        return { upstreamName, position, head, lag };
      } catch (error) {
        return { upstreamName, position: null, head: null, lag: null, error: serialisableError(error) };
      }
    }),
  );
}

/** A process's activity with its upstreams' positions. */
export async function processStatus<A extends ProcessActivity>(activity: A, follower: Follower): Promise<A & ProcessStatus> {
  const upstreams = await upstreamStatuses(follower, activity.pipelineId);
  const lag = upstreams.some((upstream) => upstream.lag === null) ? null : upstreams.reduce((sum, upstream) => sum + upstream.lag!, 0);
  return { ...activity, kind: follower.kind, upstreams, lag };
}
