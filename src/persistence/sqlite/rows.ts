import type { Notification, StoredEvent } from '../records';

/**
 * Rows are read in better-sqlite3's raw mode (arrays, in the order of the selected columns): the
 * driver then makes no object per row, and the records are made here, once.
 */

/** `EVENT_COLUMNS` of an aggregate table, or of an events table. */
export const EVENT_COLUMNS = 'originator_id, originator_version, topic, state';
export type EventTuple = readonly [originatorId: string, originatorVersion: number, topic: string, state: Buffer];

/** `NOTIFICATION_COLUMNS` of an events table. */
export const NOTIFICATION_COLUMNS = 'id, originator_id, originator_version, topic, state, pipeline_id';
export type NotificationTuple = readonly [
  id: number,
  originatorId: string,
  originatorVersion: number,
  topic: string,
  state: Buffer,
  pipelineId: number,
];

export function toStoredEvents(rows: readonly EventTuple[]): StoredEvent[] {
  const events = new Array<StoredEvent>(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    events[index] = { originatorId: row[0], originatorVersion: row[1], topic: row[2], state: row[3] };
  }
  return events;
}

export function toNotifications(rows: readonly NotificationTuple[]): Notification[] {
  const notifications = new Array<Notification>(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    notifications[index] = {
      id: row[0],
      originatorId: row[1],
      originatorVersion: row[2],
      topic: row[3],
      state: row[4],
      pipelineId: row[5],
    };
  }
  return notifications;
}
