import type { Notification, StoredEvent } from '../records';

/** A row of an aggregate table, or the aggregate columns of an events row. */
export interface EventRow {
  readonly originator_id: string;
  readonly originator_version: number;
  readonly topic: string;
  readonly state: Buffer;
}

export interface NotificationRow extends EventRow {
  readonly id: number;
  readonly pipeline_id: number;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return { originatorId: row.originator_id, originatorVersion: row.originator_version, topic: row.topic, state: row.state };
}

export function toNotification(row: NotificationRow): Notification {
  return {
    id: row.id,
    originatorId: row.originator_id,
    originatorVersion: row.originator_version,
    topic: row.topic,
    state: row.state,
    pipelineId: row.pipeline_id,
  };
}
