import { EventSourcingError } from '../domain/errors';
import type { StoredEvent, Tracking } from './records';

// Malformed input and bad configuration are every layer's errors; the persistence layer raises them too.
export { ConfigurationError, DataError } from '../domain/errors';

/** Base class of the errors of the persistence layer (recorders, mapper, transcoder). */
export class PersistenceError extends EventSourcingError {
  override name = 'PersistenceError';
}

/** A write was refused because it conflicts with what is stored; nothing of it was kept. */
export class IntegrityError extends PersistenceError {
  override name = 'IntegrityError';
}

/** Another writer recorded one of these aggregate versions first (optimistic concurrency). */
export class RecordConflictError extends IntegrityError {
  override name = 'RecordConflictError';
}

/** The tracking record does not advance the position stored for its upstream (already processed). */
export class TrackingConflictError extends IntegrityError {
  override name = 'TrackingConflictError';
}

/** The database could not be reached, or went away during an operation. */
export class OperationalError extends PersistenceError {
  override name = 'OperationalError';
}

/** The error for a tracking record whose processing started from a position no longer recorded. */
export function trackingConflict(tracking: Tracking, recorded: number): TrackingConflictError {
  return new TrackingConflictError(
    `tracking of ${tracking.applicationName} (pipeline ${tracking.pipelineId ?? 0}) is at notification ${recorded}, ` +
      `not ${tracking.previousNotificationId} where processing of notification ${tracking.notificationId} started: ` +
      `another run recorded it first`,
  );
}

/**
 * The error for an event whose version of its aggregate is taken, in one wording on every store:
 * `where` names the operation and table ("insertEvents on worlds_events"), `reason` may say more.
 */
export function versionConflict(
  where: string,
  event: Pick<StoredEvent, 'originatorId' | 'originatorVersion'>,
  reason?: string,
  options?: ErrorOptions,
): RecordConflictError {
  return new RecordConflictError(
    `${where}: version ${event.originatorVersion} of aggregate ${event.originatorId} is already recorded${reason ? `: ${reason}` : ''}`,
    options,
  );
}
