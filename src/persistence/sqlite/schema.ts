import { quoteIdentifier } from '../names';
import type { SqliteConnection } from './connection';

/** An aggregate-only store (snapshots, ...): no notification log. */
export function createAggregateTable(connection: SqliteConnection, table: string): void {
  connection.ensureTable(
    table,
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (
       originator_id TEXT NOT NULL,
       originator_version INTEGER NOT NULL,
       topic TEXT NOT NULL,
       state BLOB NOT NULL,
       PRIMARY KEY (originator_id, originator_version)
     ) WITHOUT ROWID`,
  );
}

/** The events of an application, with their notification ids (the rowid) and pipeline ids. */
export function createEventsTable(connection: SqliteConnection, table: string): void {
  connection.ensureTable(
    table,
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (
       id INTEGER PRIMARY KEY,
       originator_id TEXT NOT NULL,
       originator_version INTEGER NOT NULL,
       topic TEXT NOT NULL,
       state BLOB NOT NULL,
       pipeline_id INTEGER NOT NULL DEFAULT 0,
       UNIQUE (originator_id, originator_version)
     );
     CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${table}_pipeline_idx`)}
       ON ${quoteIdentifier(table)} (pipeline_id, id);`,
  );
}

/** The position reached in each upstream log, one row per upstream application and pipeline. */
export function createTrackingTable(connection: SqliteConnection, table: string): void {
  connection.ensureTable(
    table,
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (
       application_name TEXT NOT NULL,
       pipeline_id INTEGER NOT NULL,
       notification_id INTEGER NOT NULL,
       PRIMARY KEY (application_name, pipeline_id)
     ) WITHOUT ROWID`,
  );
}
