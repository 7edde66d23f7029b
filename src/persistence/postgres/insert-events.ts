import type { PoolClient } from 'pg';
import type { PostgresDatastore } from './datastore';
import type { StoredEvent } from '../records';
import { toBuffer, toNumber } from './rows';
import type { Relation } from './tables';

/** The events as column arrays, for one multi-row INSERT ... SELECT FROM unnest(...). */
function columns(events: readonly StoredEvent[]): unknown[] {
  return [
    events.map((e) => e.originatorId),
    events.map((e) => e.originatorVersion),
    events.map((e) => e.topic),
    events.map((e) => toBuffer(e.state)),
  ];
}

/**
 * Inserts events into an aggregate-only table (snapshots and the like), no ids, in one statement
 * (atomic on its own, so one round trip): VALUES for one event, else from unnest.
 */
export async function insertAggregateEvents(
  datastore: PostgresDatastore,
  operation: string,
  table: Relation,
  events: readonly StoredEvent[],
): Promise<void> {
  if (events.length === 1) {
    const [event] = events;
    await datastore.query(
      operation,
      `INSERT INTO ${table.sql} (originator_id, originator_version, topic, state) VALUES ($1, $2::bigint, $3, $4::bytea)`,
      [event.originatorId, event.originatorVersion, event.topic, toBuffer(event.state)],
    );
    return;
  }
  await datastore.query(
    operation,
    `INSERT INTO ${table.sql} (originator_id, originator_version, topic, state)
     SELECT u.originator_id, u.originator_version, u.topic, u.state
     FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[])
       WITH ORDINALITY AS u(originator_id, originator_version, topic, state, ordinal)
     ORDER BY u.ordinal`,
    columns(events),
  );
}

/** In 'lock' ordering, taken first in every write of events: ids are then assigned in commit order. */
export function lockTableStatement(table: Relation): string {
  return `LOCK TABLE ${table.sql} IN EXCLUSIVE MODE`;
}

/**
 * Inserts events into an application's events table with one statement; the table assigns ids
 * (in the order of the events) and the transaction id. Resolves with the ids in event order.
 */
export async function insertNotifiedEvents(
  client: PoolClient,
  table: Relation,
  events: readonly StoredEvent[],
  pipelineId: number,
): Promise<number[]> {
  const { rows } = await client.query<{ id: string; originator_id: string; originator_version: string }>(
    `INSERT INTO ${table.sql} (pipeline_id, originator_id, originator_version, topic, state)
     SELECT $1::integer, u.originator_id, u.originator_version, u.topic, u.state
     FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bytea[])
       WITH ORDINALITY AS u(originator_id, originator_version, topic, state, ordinal)
     ORDER BY u.ordinal
     RETURNING id, originator_id, originator_version`,
    [pipelineId, ...columns(events)],
  );
  // RETURNING gives rows in insertion order in practice; match them by key to rely on nothing.
  const ids = new Map<string, number>();
  for (const row of rows) ids.set(`${row.originator_version}:${row.originator_id}`, toNumber(row.id));
  return events.map((e) => ids.get(`${e.originatorVersion}:${e.originatorId}`)!);
}
