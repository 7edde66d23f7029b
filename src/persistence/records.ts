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
 * recorded in the same transaction as the events that processing the notifications produced.
 *
 * It is a compare-and-set: the write is accepted only while the stored position is still
 * `previousNotificationId` (0 when nothing was recorded yet), the position the processing read
 * from. So two runs that processed any of the same notifications can never both record them, even
 * when they processed different numbers of notifications in one transaction.
 */
export interface Tracking {
  /** Name of the upstream application whose log was followed. */
  readonly applicationName: string;
  /** The last notification processed. */
  readonly notificationId: number;
  /** The position the processing started from: the previously recorded notification id, or 0. */
  readonly previousNotificationId: number;
  readonly pipelineId?: number;
}

/** A read of one aggregate's events after a version (all of them without one), in version order. */
export interface EventsRead {
  readonly originatorId: string;
  readonly gt?: number;
}
