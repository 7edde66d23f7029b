/** A domain event as a recorder stores it. */
export interface StoredEvent {
  readonly originatorId: string;
  readonly originatorVersion: number;
  readonly topic: string;
  readonly state: Uint8Array;
}

/**
 * A stored event with its place in an application's notification log.
 *
 * `id` is unique in the log. Logs on SQLite and in memory are ordered by `id`. On PostgreSQL
 * (watermark mode) the log is ordered by `(txid, id)`: ids are drawn from a sequence and commit out
 * of order, so the log only ever shows whole committed transactions below the oldest running one.
 */
export interface Notification extends StoredEvent {
  readonly id: number;
  readonly pipelineId: number;
  /** The transaction id that recorded it, as a decimal string (PostgreSQL watermark mode only). */
  readonly txid?: string;
}

/**
 * The position a process application has reached in one upstream log (for one pipeline). It is
 * recorded in the same transaction as the events that processing the notification produced.
 */
export interface Tracking {
  /** Name of the upstream application whose log was followed. */
  readonly applicationName: string;
  readonly notificationId: number;
  readonly pipelineId?: number;
  /** The notification's `txid`, when its log has one. */
  readonly txid?: string;
}
