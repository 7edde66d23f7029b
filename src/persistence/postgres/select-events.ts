import { DataError } from '../errors';
import type { StoredEvent } from '../records';
import type { SelectEventsOptions } from '../recorders';
import type { PostgresDatastore } from './datastore';
import { EVENT_COLUMNS, toStoredEvents } from './rows';
import type { Relation } from './tables';

function checkSelectEvents(originatorId: string, options: SelectEventsOptions): void {
  if (typeof originatorId !== 'string') throw new DataError(`originatorId must be a string, got ${String(originatorId)}`);
  for (const key of ['gt', 'lte', 'limit'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || (key === 'limit' && value < 0))) {
      throw new DataError(`selectEvents option ${key} must be an integer${key === 'limit' ? ' >= 0' : ''}, got ${String(value)}`);
    }
  }
}

/** Checks one read of a group (see selectEventsGroup). */
export function checkEventsRead(read: { originatorId: unknown; gt?: unknown }): void {
  checkSelectEvents(read.originatorId as string, { gt: read.gt as number | undefined });
}

/** An aggregate's events in version order (or newest first), within a version range, up to a limit. */
export async function selectEvents(
  datastore: PostgresDatastore,
  table: Relation,
  originatorId: string,
  options: SelectEventsOptions,
): Promise<StoredEvent[]> {
  checkSelectEvents(originatorId, options);
  const values: unknown[] = [originatorId];
  let sql = `SELECT ${EVENT_COLUMNS} FROM ${table.sql} WHERE originator_id = $1`;
  if (options.gt !== undefined) {
    values.push(options.gt);
    sql += ` AND originator_version > $${values.length}::bigint`;
  }
  if (options.lte !== undefined) {
    values.push(options.lte);
    sql += ` AND originator_version <= $${values.length}::bigint`;
  }
  sql += options.desc ? ' ORDER BY originator_version DESC' : ' ORDER BY originator_version';
  if (options.limit !== undefined) {
    values.push(options.limit);
    sql += ` LIMIT $${values.length}::bigint`;
  }
  return toStoredEvents(await datastore.queryArrays(`selectEvents on ${table.schema}.${table.name}`, sql, values));
}
