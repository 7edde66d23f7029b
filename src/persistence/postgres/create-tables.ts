import type { PoolClient } from 'pg';
import { quoteIdentifier } from '../names';
import type { PostgresDatastore } from './datastore';
import { objectName, type Relation } from './tables';

/** What to create: the statements, and the names (tables, indexes) that exist once they ran. */
export interface TableDefinition {
  readonly schema: string;
  readonly objects: readonly string[];
  readonly statements: readonly string[];
}

/** `<app>_events`: the events of aggregates and, by (txid, id), the application's notification log. */
export function eventsTable(table: Relation): TableDefinition {
  const pkey = objectName(table.name, 'pkey');
  const idKey = objectName(table.name, 'id_key');
  const txidIndex = objectName(table.name, 'txid_id_idx');
  const pipelineIndex = objectName(table.name, 'pipeline_txid_id_idx');
  return {
    schema: table.schema,
    objects: [table.name, pkey, idKey, txidIndex, pipelineIndex],
    statements: [
      `CREATE TABLE IF NOT EXISTS ${table.sql} (
        id BIGINT GENERATED ALWAYS AS IDENTITY,
        txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        pipeline_id INTEGER NOT NULL DEFAULT 0,
        originator_id TEXT NOT NULL,
        originator_version BIGINT NOT NULL,
        topic TEXT NOT NULL,
        state BYTEA NOT NULL,
        CONSTRAINT ${quoteIdentifier(pkey)} PRIMARY KEY (originator_id, originator_version),
        CONSTRAINT ${quoteIdentifier(idKey)} UNIQUE (id)
      )`,
      `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(txidIndex)} ON ${table.sql} (txid, id)`,
      `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(pipelineIndex)} ON ${table.sql} (pipeline_id, txid, id)`,
    ],
  };
}

/** `<app>_<purpose>` (snapshots and other aggregate-only stores): no notification log. */
export function aggregateEventsTable(table: Relation): TableDefinition {
  const pkey = objectName(table.name, 'pkey');
  return {
    schema: table.schema,
    objects: [table.name, pkey],
    statements: [
      `CREATE TABLE IF NOT EXISTS ${table.sql} (
        originator_id TEXT NOT NULL,
        originator_version BIGINT NOT NULL,
        topic TEXT NOT NULL,
        state BYTEA NOT NULL,
        CONSTRAINT ${quoteIdentifier(pkey)} PRIMARY KEY (originator_id, originator_version)
      )`,
    ],
  };
}

/**
 * `<app>_tracking`: the position reached in each upstream log, per pipeline. `txid` is reserved for
 * the upstream notification's transaction id; Tracking records do not carry it (yet), so it is NULL.
 */
export function trackingTable(table: Relation): TableDefinition {
  const pkey = objectName(table.name, 'pkey');
  return {
    schema: table.schema,
    objects: [table.name, pkey],
    statements: [
      `CREATE TABLE IF NOT EXISTS ${table.sql} (
        application_name TEXT NOT NULL,
        pipeline_id INTEGER NOT NULL DEFAULT 0,
        notification_id BIGINT NOT NULL,
        txid xid8 NULL,
        CONSTRAINT ${quoteIdentifier(pkey)} PRIMARY KEY (application_name, pipeline_id)
      )`,
    ],
  };
}

/** Serialises this library's DDL across connections and processes (an arbitrary, fixed key). */
const DDL_LOCK = 'SELECT pg_advisory_xact_lock(7202505131742661001)';

const COUNT_EXISTING = `
  SELECT count(*)::int AS existing
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`;

const SCHEMA_EXISTS = 'SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1';

async function allExist(client: PoolClient, definitions: readonly TableDefinition[]): Promise<boolean> {
  for (const definition of definitions) {
    const { rows } = await client.query<{ existing: number }>(COUNT_EXISTING, [definition.schema, definition.objects]);
    if (rows[0].existing !== definition.objects.length) return false;
  }
  return true;
}

/** Unique violations on the catalogues, "already exists": another session created it first. */
const RACE_CODES = new Set(['23505', '42P07', '42710', '42P06']);

/**
 * Creates the schema and tables that do not exist yet, in one transaction under an advisory
 * lock, so that connections and processes racing to create them cannot trip over each other
 * (concurrent `CREATE TABLE IF NOT EXISTS` can otherwise fail with a unique violation on
 * pg_type). When everything exists already, nothing is locked. A race with a session that does
 * not take the lock is retried.
 */
export async function createTables(datastore: PostgresDatastore, definitions: readonly TableDefinition[]): Promise<void> {
  const operation = `creating tables ${definitions.map((d) => d.objects[0]).join(', ')} in schema ${definitions[0]?.schema}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await datastore.transaction(operation, async (client) => {
        if (await allExist(client, definitions)) return;
        await client.query(DDL_LOCK);
        for (const schema of new Set(definitions.map((d) => d.schema))) {
          const { rows } = await client.query(SCHEMA_EXISTS, [schema]);
          if (rows.length === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
        }
        for (const definition of definitions) {
          for (const statement of definition.statements) await client.query(statement);
        }
      });
      return;
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if (attempt >= 3 || code === undefined || !RACE_CODES.has(code)) throw error;
    }
  }
}
