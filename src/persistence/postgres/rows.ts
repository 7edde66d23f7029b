import type { Notification, StoredEvent } from '../records';

/** node-postgres returns BIGINT as a string and BYTEA as a Buffer. */
export interface EventRow {
  readonly originator_id: string;
  readonly originator_version: string;
  readonly topic: string;
  readonly state: Buffer;
}

export interface NotificationRow extends EventRow {
  readonly id: string;
  /** xid8, as a decimal string. */
  readonly txid: string;
  readonly pipeline_id: number;
}

/** Converts a BIGINT (a decimal string from pg) to a number; ids and versions stay below 2^53. */
export function toNumber(value: string | number): number {
  return typeof value === 'number' ? value : Number(value);
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    originatorId: row.originator_id,
    originatorVersion: toNumber(row.originator_version),
    topic: row.topic,
    state: row.state,
  };
}

export function toNotification(row: NotificationRow): Notification {
  return {
    id: toNumber(row.id),
    originatorId: row.originator_id,
    originatorVersion: toNumber(row.originator_version),
    topic: row.topic,
    state: row.state,
    pipelineId: row.pipeline_id,
    txid: row.txid,
  };
}

/** A Uint8Array as a Buffer, without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
