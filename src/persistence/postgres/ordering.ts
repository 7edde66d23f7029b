import type { Notification } from '../records';
import type { SelectNotificationsOptions } from '../recorders';
import type { PostgresDatastore } from './datastore';
import { maxNotificationIdById, maxNotificationIdByWatermark } from './max-notification-id';
import type { PostgresOrdering } from './options';
import { selectNotificationsById, selectNotificationsByWatermark } from './select-notifications';
import type { Relation } from './tables';
import type { WriteStatement } from './write-statement';

/**
 * How an application's notification log is ordered, chosen once per recorder: how a write is sent
 * so that its notifications take their place in the log, and how the log is read. Every writer and
 * reader of one table must use the same ordering.
 */
/** A statement that writes to the log: one write's, or a group's. */
export type LogWrite = Pick<WriteStatement, 'writesEvents' | 'run'>;

export interface LogOrdering {
  write(datastore: PostgresDatastore, operation: string, table: Relation, statement: LogWrite): Promise<void>;
  selectNotifications(
    datastore: PostgresDatastore,
    table: Relation,
    start: number,
    limit: number,
    options: SelectNotificationsOptions,
  ): Promise<Notification[]>;
  maxNotificationId(datastore: PostgresDatastore, table: Relation, pipelineId: number | undefined): Promise<number>;
}

/**
 * The log in (txid, id) order, showing only transactions below the oldest one still running: a
 * write needs no lock, so it is its statement alone, in one round trip.
 */
const WATERMARK_ORDERING: LogOrdering = {
  write: (datastore, operation, _table, statement) => statement.run(datastore.session(operation)),
  selectNotifications: selectNotificationsByWatermark,
  maxNotificationId: maxNotificationIdByWatermark,
};

/**
 * The log in id order: a write of events takes `LOCK TABLE ... IN EXCLUSIVE MODE` first, so that
 * ids are assigned in commit order. BEGIN and the lock go in one round trip, the lock before
 * anything else, so writers cannot deadlock on it. A write of tracking alone needs no lock.
 */
const LOCK_ORDERING: LogOrdering = {
  write: (datastore, operation, table, statement) =>
    statement.writesEvents
      ? datastore.transaction(operation, (session) => statement.run(session), `BEGIN; LOCK TABLE ${table.sql} IN EXCLUSIVE MODE`)
      : statement.run(datastore.session(operation)),
  selectNotifications: selectNotificationsById,
  maxNotificationId: maxNotificationIdById,
};

export function logOrdering(ordering: PostgresOrdering): LogOrdering {
  return ordering === 'lock' ? LOCK_ORDERING : WATERMARK_ORDERING;
}
