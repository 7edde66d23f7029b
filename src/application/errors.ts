import { EventSourcingError } from '../domain';

/** No aggregate with this id (at this version) is recorded. */
export class AggregateNotFound extends EventSourcingError {
  override name = 'AggregateNotFound';

  constructor(
    readonly aggregateId: string,
    readonly version?: number,
  ) {
    super(
      version === undefined
        ? `aggregate ${aggregateId} not found`
        : `aggregate ${aggregateId} not found at version ${version}`,
    );
  }
}

/** An application was asked for something its configuration does not allow. */
export class ApplicationError extends EventSourcingError {
  override name = 'ApplicationError';
}

/**
 * Aggregates that a unit of work read from the cache (without looking for newer events) were
 * changed by another writer meanwhile: what the unit decided from them must be decided again.
 */
export class StaleAggregateError extends EventSourcingError {
  override name = 'StaleAggregateError';

  constructor(readonly aggregates: ReadonlyArray<{ readonly id: string; readonly version: number }>) {
    super(
      `aggregate${aggregates.length === 1 ? '' : 's'} ${aggregates.map((a) => `${a.id} (read at version ${a.version})`).join(', ')} ` +
        `changed since it was cached: read ${aggregates.length === 1 ? 'it' : 'them'} again`,
    );
  }
}

/**
 * A command's own write was recorded, but processing what it recorded downstream failed (a
 * follower's read or write, after retries of transient failures, or its policy). The command must
 * not be repeated: it is recorded, and processing resumes from the followers' tracking positions.
 */
export class DownstreamProcessingError extends EventSourcingError {
  override name = 'DownstreamProcessingError';
  override readonly cause: unknown;

  constructor(
    readonly applicationName: string,
    /** The notification ids of what the command recorded. */
    readonly notificationIds: readonly number[],
    cause: unknown,
  ) {
    super(
      `${applicationName} recorded the command (notification${notificationIds.length === 1 ? '' : 's'} ` +
        `${describeIds(notificationIds)}), but processing it downstream failed: ` +
        `${cause instanceof Error ? cause.message : String(cause)}. Do not repeat the command; ` +
        `processing resumes from the followers' tracking positions`,
    );
    this.cause = cause;
  }
}

function describeIds(ids: readonly number[]): string {
  if (ids.length <= 3) return ids.join(', ');
  return `${ids[0]} to ${ids[ids.length - 1]}`;
}
