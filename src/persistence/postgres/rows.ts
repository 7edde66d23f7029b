import type { Notification, StoredEvent } from '../records';

/** Converts a BIGINT (a decimal string from pg) to a number; ids and versions stay below 2^53. */
export function toNumber(value: string | number): number {
  return typeof value === 'number' ? value : Number(value);
}

/** A Uint8Array as a Buffer, without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The columns of a notification, in the order toNotifications reads them (rows as arrays). */
export const NOTIFICATION_COLUMNS = 'e.id, e.txid, e.pipeline_id, e.originator_id, e.originator_version, e.topic, e.state';

/**
 * Notifications from rows of NOTIFICATION_COLUMNS as arrays (BIGINTs as numbers, xid8 as a decimal
 * string), skipping rows whose id is null.
 */
export function toNotifications(rows: readonly unknown[][]): Notification[] {
  const notifications: Notification[] = [];
  for (const row of rows) {
    if (row[0] === null) continue;
    notifications.push({
      id: row[0] as number,
      originatorId: row[3] as string,
      originatorVersion: row[4] as number,
      topic: row[5] as string,
      state: row[6] as Buffer,
      pipelineId: row[2] as number,
      txid: row[1] as string,
    });
  }
  return notifications;
}

/** The columns of a stored event, in the order toStoredEvents reads them (rows as arrays). */
export const EVENT_COLUMNS = 'originator_id, originator_version, topic, state';

export function toStoredEvents(rows: readonly unknown[][]): StoredEvent[] {
  const events = new Array<StoredEvent>(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    events[index] = {
      originatorId: row[0] as string,
      originatorVersion: row[1] as number,
      topic: row[2] as string,
      state: row[3] as Buffer,
    };
  }
  return events;
}
