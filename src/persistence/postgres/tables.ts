import { createHash } from 'node:crypto';
import { checkAggregatePurpose, quoteIdentifier, tableName } from '../names';

const MAX_IDENTIFIER_LENGTH = 63;

/** A table (or index) name: the bare name, and the schema-qualified, quoted form used in SQL. */
export interface Relation {
  readonly schema: string;
  readonly name: string;
  /** `"schema"."name"`: only validated names are ever quoted into SQL. */
  readonly sql: string;
}

export function relation(schema: string, name: string): Relation {
  return { schema, name, sql: `${quoteIdentifier(schema)}.${quoteIdentifier(name)}` };
}

/**
 * Name of an index or constraint of `table`. PostgreSQL silently truncates identifiers to 63
 * characters, so two long table names could end up sharing an index name (and `IF NOT EXISTS`
 * would then skip creating the second index): long names are shortened with a hash instead.
 */
export function objectName(table: string, suffix: string): string {
  const name = `${table}_${suffix}`;
  if (name.length <= MAX_IDENTIFIER_LENGTH) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${table.slice(0, MAX_IDENTIFIER_LENGTH - suffix.length - hash.length - 2)}_${hash}_${suffix}`;
}

/** The tables of one application in one schema. */
export interface ApplicationTables {
  readonly events: Relation;
  readonly tracking: Relation;
}

export function applicationTables(schema: string, applicationName: string): ApplicationTables {
  return {
    events: relation(schema, tableName(applicationName, 'events')),
    tracking: relation(schema, tableName(applicationName, 'tracking')),
  };
}

/** The table of an aggregate-only store: `<app>_snapshots`. */
export function aggregateTable(schema: string, applicationName: string, purpose: string): Relation {
  return relation(schema, tableName(applicationName, checkAggregatePurpose(applicationName, purpose)));
}
