import { DataError, versionConflict } from './errors';
import type { StoredEvent, Tracking } from './records';
import type { SelectNotificationsOptions } from './recorders';

/** Checks the records a caller asks a recorder to write, so bad input never reaches a table. */
export function checkStoredEvents(events: readonly StoredEvent[]): void {
  if (!Array.isArray(events)) throw new DataError('insertEvents takes an array of stored events');
  for (const event of events) {
    if (event === null || typeof event !== 'object') throw new DataError('a stored event must be an object');
    if (typeof event.originatorId !== 'string' || event.originatorId.length === 0) {
      throw new DataError(`stored event has no originatorId (got ${String(event.originatorId)})`);
    }
    if (!Number.isSafeInteger(event.originatorVersion) || event.originatorVersion < 0) {
      throw new DataError(
        `stored event of ${event.originatorId} has an invalid originatorVersion ${String(event.originatorVersion)}`,
      );
    }
    if (typeof event.topic !== 'string' || event.topic.length === 0) {
      throw new DataError(`stored event ${event.originatorId} v${event.originatorVersion} has no topic`);
    }
    if (!(event.state instanceof Uint8Array)) {
      throw new DataError(`stored event ${event.originatorId} v${event.originatorVersion} has state that is not bytes`);
    }
  }
}

/**
 * Refuses a write that records one version of an aggregate twice: it would conflict with itself.
 * `where` names the operation and table, as the conflicts the stores find do.
 */
export function checkDistinctVersions(events: readonly StoredEvent[], where: string): void {
  if (events.length < 2) return;
  // An aggregate's versions usually ascend within a write: then the highest one seen so far decides.
  const highest = new Map<string, number>();
  for (let index = 0; index < events.length; index++) {
    const { originatorId, originatorVersion } = events[index];
    const seen = highest.get(originatorId);
    if (seen === undefined || originatorVersion > seen) {
      highest.set(originatorId, originatorVersion);
      continue;
    }
    for (let earlier = 0; earlier < index; earlier++) {
      const other = events[earlier];
      if (other.originatorVersion === originatorVersion && other.originatorId === originatorId) {
        throw versionConflict(where, events[index], 'this write has it twice');
      }
    }
  }
}

/** The greatest pipeline id: pipeline_id is an INTEGER column in the SQL stores, and every store takes the same ids. */
const MAX_PIPELINE_ID = 2_147_483_647;

export function checkPipelineId(pipelineId: number | undefined): number {
  const id = pipelineId ?? 0;
  if (!Number.isSafeInteger(id) || id < 0 || id > MAX_PIPELINE_ID) {
    throw new DataError(`pipeline id must be an integer from 0 to ${MAX_PIPELINE_ID}, got ${String(pipelineId)}`);
  }
  return id;
}

export function checkTracking(tracking: Tracking): void {
  if (tracking === null || typeof tracking !== 'object') throw new DataError('tracking must be an object');
  if (typeof tracking.applicationName !== 'string' || tracking.applicationName.length === 0) {
    throw new DataError('tracking record has no applicationName');
  }
  if (!Number.isSafeInteger(tracking.notificationId) || tracking.notificationId < 1) {
    throw new DataError(`tracking record has an invalid notificationId ${String(tracking.notificationId)}`);
  }
  if (!Number.isSafeInteger(tracking.previousNotificationId) || tracking.previousNotificationId < 0) {
    throw new DataError(
      `tracking record has an invalid previousNotificationId ${String(tracking.previousNotificationId)} ` +
        `(the position processing started from; 0 for the first)`,
    );
  }
  if (tracking.previousNotificationId === tracking.notificationId) {
    throw new DataError(`tracking record does not move: notificationId and previousNotificationId are both ${tracking.notificationId}`);
  }
  checkPipelineId(tracking.pipelineId);
}

export function checkSelectNotifications(start: number, limit: number, options: SelectNotificationsOptions): void {
  if (!Number.isSafeInteger(start) || start < 0) throw new DataError(`start must be an integer >= 0, got ${String(start)}`);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new DataError(`limit must be an integer >= 1, got ${String(limit)}`);
  if (options.stop !== undefined && !Number.isSafeInteger(options.stop)) {
    throw new DataError(`stop must be an integer, got ${String(options.stop)}`);
  }
  const { topics } = options;
  if (topics !== undefined && (!Array.isArray(topics) || !topics.every((topic) => typeof topic === 'string'))) {
    throw new DataError('topics must be an array of strings');
  }
  if (options.pipelineId !== undefined) checkPipelineId(options.pipelineId);
  if (options.waitFor !== undefined && (!Number.isSafeInteger(options.waitFor) || options.waitFor < 1)) {
    throw new DataError(`waitFor must be a notification id (an integer >= 1), got ${String(options.waitFor)}`);
  }
}

/** Checks the arguments of maxTrackingId; returns the pipeline id. */
export function checkTrackingPosition(applicationName: string, pipelineId: number | undefined): number {
  if (typeof applicationName !== 'string') {
    throw new DataError(`maxTrackingId takes the name of an upstream application, got ${String(applicationName)}`);
  }
  return checkPipelineId(pipelineId);
}
