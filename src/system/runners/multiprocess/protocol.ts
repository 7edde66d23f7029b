// What the MultiprocessRunner and its workers say to each other (over IPC, or a thread's port).
// Everything here is plain data: classes cannot cross a process boundary.
import { EventSourcingError } from '../../../domain';
import type { Logger, LogLevel } from '../../../observability/logger';
import { PolicyError } from '../../errors';
import type { SystemShape } from '../../system-shape';

/** Where a worker finds the system: a module's absolute path and the name of the export. */
export interface SystemModule {
  readonly path: string;
  /** Default `system`. */
  readonly exportName?: string;
}

/** What a worker is started with. */
export interface WorkerInit {
  readonly systemModule: Required<SystemModule>;
  readonly shape: SystemShape;
  readonly followerName: string;
  readonly pipelineId: number;
  /** The runner's env option (the worker's own process environment is the parent's). */
  readonly env: Readonly<Record<string, string>>;
}

/** An error as data: name, message, and a PolicyError's notification. */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly policy?: {
    readonly applicationName: string;
    readonly upstreamName: string;
    readonly notificationId: number;
    readonly pipelineId: number;
    readonly cause: { readonly name: string; readonly message: string };
  };
}

export function errorData(error: unknown): ErrorData {
  const real = error instanceof Error ? error : new Error(String(error));
  if (real instanceof PolicyError) {
    const cause = real.cause instanceof Error ? real.cause : new Error(String(real.cause));
    const { applicationName, upstreamName, notificationId, pipelineId } = real;
    return { name: real.name, message: real.message, policy: { applicationName, upstreamName, notificationId, pipelineId, cause: { name: cause.name, message: cause.message } } };
  }
  return { name: real.name, message: real.message };
}

/** An error made again from its data: a PolicyError as one (status and skip need its notification). */
export function errorFrom(data: ErrorData): Error {
  if (data.policy !== undefined) {
    const { applicationName, upstreamName, notificationId, pipelineId, cause } = data.policy;
    const original = new EventSourcingError(cause.message);
    original.name = cause.name;
    return new PolicyError(applicationName, upstreamName, notificationId, pipelineId, original);
  }
  const error = new EventSourcingError(data.message);
  error.name = data.name;
  return error;
}

export type Positions = Readonly<Record<string, number>>;

/** From the runner to a worker. */
export type ToWorker =
  /** Process everything new upstream; `waitFor`: notifications known to be recorded, by upstream. */
  | { readonly type: 'run'; readonly runId: number; readonly waitFor: Positions }
  /** Skip notification `notificationId` of `upstreamName` if it is the next one. */
  | { readonly type: 'skip'; readonly requestId: number; readonly upstreamName: string; readonly notificationId: number; readonly reason: string }
  /** Start again from the tracking positions as recorded (after a failed run), keeping the process. */
  | { readonly type: 'reset' }
  | { readonly type: 'ping'; readonly seq: number }
  /** Finish the batch in flight, close, exit. */
  | { readonly type: 'stop' };

/** From a worker to the runner. */
export type FromWorker =
  | { readonly type: 'ready'; readonly pid: number }
  /** The worker could not start (its module did not load, or holds another system): it exits. */
  | { readonly type: 'start-failed'; readonly error: ErrorData }
  | { readonly type: 'run-finished'; readonly runId: number; readonly positions: Positions }
  | { readonly type: 'run-failed'; readonly runId: number; readonly error: ErrorData; readonly positions: Positions }
  /** The follower recorded notifications in its own log (its followers are prompted). */
  | { readonly type: 'recorded'; readonly count: number; readonly lastNotificationId: number }
  | { readonly type: 'skipped'; readonly requestId: number; readonly notificationId: number }
  | { readonly type: 'skip-failed'; readonly requestId: number; readonly error: ErrorData }
  | { readonly type: 'pong'; readonly seq: number }
  /** Something the worker's applications logged (its error as data), for the runner's logger. */
  | { readonly type: 'log'; readonly level: LogLevel; readonly fields: Record<string, unknown>; readonly message: string };

/** A logger whose records go to the runner, to be logged there by its logger (see logRecordFrom). */
export function forwardingLogger(send: (message: FromWorker) => void): Logger {
  const level =
    (name: LogLevel) =>
    (fields?: object | string, message?: string): void => {
      const record: Record<string, unknown> = typeof fields === 'object' && fields !== null ? { ...fields } : {};
      if (record.err !== undefined) record.err = errorData(record.err);
      send({ type: 'log', level: name, fields: record, message: typeof fields === 'string' ? fields : message ?? '' });
    };
  return { error: level('error'), warn: level('warn'), info: level('info'), debug: level('debug') };
}

/** The fields of a forwarded record, with its error made again. */
export function logFieldsFrom(fields: Record<string, unknown>): Record<string, unknown> {
  return fields.err === undefined ? fields : { ...fields, err: errorFrom(fields.err as ErrorData) };
}
