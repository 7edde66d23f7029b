import type { EventsRead, Notification, StoredEvent, Tracking } from './records';

export interface SelectEventsOptions {
  /** Only versions greater than this. */
  gt?: number;
  /** Only versions up to and including this. */
  lte?: number;
  /** Newest first. */
  desc?: boolean;
  limit?: number;
}

export interface InsertEventsOptions {
  /** Pipeline id recorded with each event (default 0). */
  pipelineId?: number;
  /** Tracking record written in the same transaction (process recorders only). */
  tracking?: Tracking;
}

/**
 * Stores the events of aggregates. Inserting is atomic: either every event of a call is recorded,
 * or (when any version is already taken) none is and a RecordConflictError is raised.
 */
export interface AggregateRecorder {
  /** Records the events; resolves with their notification ids (empty where there is no log). */
  insertEvents(events: readonly StoredEvent[], options?: InsertEventsOptions): Promise<number[]>;
  /** An aggregate's events in version order (or reversed with `desc`). */
  selectEvents(originatorId: string, options?: SelectEventsOptions): Promise<StoredEvent[]>;
  /**
   * Several reads at once, each one aggregate's events after a version, in version order. Stores
   * whose reads are round trips to a server have it (one statement for all); where a store has it,
   * the reads of concurrent commands go together (see ReadGroup).
   */
  selectEventsGroup?(reads: readonly EventsRead[]): Promise<StoredEvent[][]>;
  close(): Promise<void>;
}

export interface SelectNotificationsOptions {
  /** Stop at (and include) this notification id. */
  stop?: number;
  /** Only notifications of these topics. */
  topics?: readonly string[];
  /** Only notifications of this pipeline. */
  pipelineId?: number;
  /** Include the notification at `start` (default true); followers pass false with their last id. */
  inclusiveOfStart?: boolean;
  /**
   * The id of a notification the caller knows was committed before it asked (a prompt named it).
   * A store whose log can hold a committed write back for a moment (PostgreSQL's watermark ordering,
   * while a transaction that began before it is still running) waits until the log shows it, for
   * up to 30 s, and then fails with an OperationalError: a reader told of a write never misses it.
   * Every other store shows each write as soon as it returns, and has nothing to wait for.
   */
  waitFor?: number;
}

/** One write of a group (see ApplicationRecorder.insertGroup). */
export interface GroupedWrite {
  readonly events: readonly StoredEvent[];
  /** The pipeline id; a grouped write takes no tracking record. */
  readonly options?: InsertEventsOptions;
}

/** Adds the notification log: every recorded event in the order it was committed. */
export interface ApplicationRecorder extends AggregateRecorder {
  /**
   * Records several independent writes at once (group commit): in one database transaction where
   * the store can (PostgreSQL: one statement; SQLite: one transaction), each still atomic on its own
   * and accepted or refused on its own. Resolves with, for each write, its notification ids
   * (contiguous within the write), or the error that refused it alone (RecordConflictError,
   * DataError); an error that is no write's own (the database went away) rejects the whole group.
   */
  insertGroup(writes: readonly GroupedWrite[]): Promise<Array<number[] | Error>>;
  /**
   * Up to `limit` notifications in log order from position `start` (a notification id; 0 or 1 is
   * the beginning). On logs ordered by id, `start` is simply the first id considered.
   */
  selectNotifications(start: number, limit: number, options?: SelectNotificationsOptions): Promise<Notification[]>;
  /** The id of the last notification in log order (of one pipeline, if given), 0 when empty. */
  maxNotificationId(pipelineId?: number): Promise<number>;
}

/** Adds tracking: events recorded with the upstream position that produced them, atomically. */
export interface ProcessRecorder extends ApplicationRecorder {
  /**
   * With `options.tracking`, the events and the tracking record are written in one transaction.
   * A tracking record that does not advance the stored position for its upstream and pipeline
   * raises TrackingConflictError and nothing of the write is kept.
   */
  insertEvents(events: readonly StoredEvent[], options?: InsertEventsOptions): Promise<number[]>;
  /** The last notification id recorded as processed from `applicationName` (0 when none). */
  maxTrackingId(applicationName: string, pipelineId?: number): Promise<number>;
}

/** What a persistence module provides to an application: its recorders, sharing one connection. */
export interface InfrastructureFactory {
  /** Recorder of snapshots (`purpose: 'snapshots'`) or other aggregate-only stores. */
  aggregateRecorder(purpose: string): AggregateRecorder;
  applicationRecorder(): ApplicationRecorder;
  processRecorder(): ProcessRecorder;
  /** Releases connections and pools. Recorders made by this factory are closed with it. */
  close(): Promise<void>;
}
