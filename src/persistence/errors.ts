import { EventSourcingError } from '../domain/errors';
import type { Tracking } from './records';

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

/** A call or a stored record is malformed: wrong arguments, bad names, undecodable data. */
export class DataError extends PersistenceError {
  override name = 'DataError';
}

/** Wrong configuration of a persistence module (names the setting at fault). */
export class ConfigurationError extends PersistenceError {
  override name = 'ConfigurationError';
}

/** The error for a tracking record whose processing started from a position no longer recorded. */
export function trackingConflict(tracking: Tracking, recorded: number): TrackingConflictError {
  return new TrackingConflictError(
    `tracking of ${tracking.applicationName} (pipeline ${tracking.pipelineId ?? 0}) is at notification ${recorded}, ` +
      `not ${tracking.previousNotificationId} where processing of notification ${tracking.notificationId} started: ` +
      `another run recorded it first`,
  );
}
