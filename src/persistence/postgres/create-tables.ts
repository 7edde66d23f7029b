import { APPLICATIONS_TABLE, quoteIdentifier, tablePrefix, tablesOwnedByAnother } from '../names';
import type { PostgresDatastore, TransactionSession } from './datastore';
import { objectName, relation, type Relation } from './tables';

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

/** A table of `columns` whose primary key is `key`; nothing else to create. */
function keyedTable(table: Relation, columns: string, key: string): TableDefinition {
  const pkey = objectName(table.name, 'pkey');
  return {
    schema: table.schema,
    objects: [table.name, pkey],
    statements: [`CREATE TABLE IF NOT EXISTS ${table.sql} (${columns}, CONSTRAINT ${quoteIdentifier(pkey)} PRIMARY KEY (${key}))`],
  };
}

/** `<app>_<purpose>` (snapshots and other aggregate-only stores): no notification log. */
export function aggregateEventsTable(table: Relation): TableDefinition {
  return keyedTable(
    table,
    'originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, topic TEXT NOT NULL, state BYTEA NOT NULL',
    'originator_id, originator_version',
  );
}

/**
 * `<app>_tracking`: the position reached in each upstream log, per pipeline. `txid` is reserved for
 * the upstream notification's transaction id; Tracking records do not carry it (yet), so it is NULL.
 */
export function trackingTable(table: Relation): TableDefinition {
  return keyedTable(
    table,
    'application_name TEXT NOT NULL, pipeline_id INTEGER NOT NULL DEFAULT 0, notification_id BIGINT NOT NULL, txid xid8 NULL',
    'application_name, pipeline_id',
  );
}

/** Which application owns the tables of each name prefix in the schema (see APPLICATIONS_TABLE). */
function applicationsTable(schema: string): TableDefinition {
  return keyedTable(relation(schema, APPLICATIONS_TABLE), 'table_prefix TEXT NOT NULL, application_name TEXT NOT NULL', 'table_prefix');
}

/**
 * Records that `applicationName` owns the tables of its name's prefix in the schema, or refuses
 * (ConfigurationError) when another application, whose name differs only by case, owns them.
 * Two first claims racing queue on the primary key; the later one then reads the earlier's row.
 */
async function claimTables(session: TransactionSession, schema: string, applicationName: string): Promise<void> {
  const table = relation(schema, APPLICATIONS_TABLE);
  const prefix = tablePrefix(applicationName);
  const select = `SELECT application_name FROM ${table.sql} WHERE table_prefix = $1`;
  let rows = await session.query<{ application_name: string }>(select, [prefix]);
  if (rows.length === 0) {
    await session.query(
      `INSERT INTO ${table.sql} (table_prefix, application_name) VALUES ($1, $2) ON CONFLICT (table_prefix) DO NOTHING`,
      [prefix, applicationName],
    );
    rows = await session.query<{ application_name: string }>(select, [prefix]);
  }
  const owner = rows[0].application_name;
  if (owner !== applicationName) throw tablesOwnedByAnother(`PostgreSQL schema '${schema}'`, applicationName, owner);
}

/** Serialises this library's DDL across connections and processes (an arbitrary, fixed key). */
const DDL_LOCK = 'SELECT pg_advisory_xact_lock(7202505131742661001)';

const COUNT_EXISTING = `
  SELECT count(*)::int AS existing
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`;

const SCHEMA_EXISTS = 'SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1';

async function allExist(session: TransactionSession, definitions: readonly TableDefinition[]): Promise<boolean> {
  for (const definition of definitions) {
    const [row] = await session.query<{ existing: number }>(COUNT_EXISTING, [definition.schema, definition.objects]);
    if (row.existing !== definition.objects.length) return false;
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
 * not take the lock is retried. In the same transaction, the factory's application claims its
 * tables (see claimTables).
 */
export async function createTables(datastore: PostgresDatastore, tables: readonly TableDefinition[]): Promise<void> {
  const schema = tables[0].schema;
  const definitions = [applicationsTable(schema), ...tables];
  const operation = `creating tables ${tables.map((d) => d.objects[0]).join(', ')} in schema ${schema}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await datastore.transaction(operation, async (session) => {
        if (!(await allExist(session, definitions))) {
          await session.query(DDL_LOCK);
          const rows = await session.query(SCHEMA_EXISTS, [schema]);
          if (rows.length === 0) await session.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
          for (const definition of definitions) {
            for (const statement of definition.statements) await session.query(statement);
          }
        }
        await claimTables(session, schema, datastore.options.applicationName);
      });
      return;
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if (attempt >= 3 || code === undefined || !RACE_CODES.has(code)) throw error;
    }
  }
}
