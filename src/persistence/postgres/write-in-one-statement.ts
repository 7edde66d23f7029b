import { trackingConflict } from '../errors';
import type { StoredEvent, Tracking } from '../records';
import type { PostgresDatastore } from './datastore';
import { trackingPositionQuery } from './advance-tracking';
import { toBuffer, toNumber } from './rows';
import type { ApplicationTables } from './tables';

interface WriteRow {
  readonly tracked: number;
  readonly id: string | null;
}

/**
 * Records events and (optionally) a tracking record in ONE statement, so in one round trip and one
 * implicit transaction ('watermark' ordering needs no lock). The tracking compare-and-set runs
 * first, in a data-modifying CTE; the events are inserted only if it moved the position. A
 * taken version fails the whole statement (unique_violation, so nothing of it is kept); a tracking
 * record that did not apply writes nothing and raises TrackingConflictError. Without a tracking
 * record, it is a plain INSERT (see insertEvents below).
 */
export async function writeInOneStatement(
  datastore: PostgresDatastore,
  operation: string,
  tables: ApplicationTables,
  events: readonly StoredEvent[],
  pipelineId: number,
  tracking: Tracking | undefined,
): Promise<number[]> {
  if (tracking === undefined) return insertEvents(datastore, operation, tables, events, pipelineId);
  const values: unknown[] = [
    pipelineId,
    events.map((e) => e.originatorId),
    events.map((e) => e.originatorVersion),
    events.map((e) => e.topic),
    events.map((e) => toBuffer(e.state)),
  ];
  const insert = (condition: string) => `INSERT INTO ${tables.events.sql} (pipeline_id, originator_id, originator_version, topic, state)
    SELECT $1::integer, u.originator_id, u.originator_version, u.topic, u.state
    FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bytea[])
      WITH ORDINALITY AS u(originator_id, originator_version, topic, state, ordinal)
    ${condition}
    ORDER BY u.ordinal
    RETURNING id`;
  values.push(tracking.applicationName, tracking.pipelineId ?? 0, tracking.notificationId);
  let move: string;
  if (tracking.previousNotificationId === 0) {
    move = `INSERT INTO ${tables.tracking.sql} (application_name, pipeline_id, notification_id)
      VALUES ($6, $7::integer, $8::bigint) ON CONFLICT (application_name, pipeline_id) DO NOTHING RETURNING 1`;
  } else {
    values.push(tracking.previousNotificationId);
    move = `UPDATE ${tables.tracking.sql} SET notification_id = $8::bigint
      WHERE application_name = $6 AND pipeline_id = $7::integer AND notification_id = $9::bigint RETURNING 1`;
  }
  const sql = `WITH tracked AS (${move}),
    inserted AS (${insert('WHERE EXISTS (SELECT 1 FROM tracked)')})
    SELECT (SELECT count(*) FROM tracked)::integer AS tracked, inserted.id
    FROM (SELECT 1) AS one LEFT JOIN inserted ON true`;
  const rows = await datastore.query<WriteRow>(operation, sql, values);
  if (rows.length === 0 || rows[0].tracked === 0) {
    const [row] = await datastore.query<{ notification_id: string }>(operation, trackingPositionQuery(tables.tracking), [
      tracking.applicationName,
      tracking.pipelineId ?? 0,
    ]);
    throw trackingConflict(tracking, row === undefined ? 0 : toNumber(row.notification_id));
  }
  // RETURNING gives the rows in insertion order, which follows the ordinals.
  return rows.filter((row) => row.id !== null).map((row) => toNumber(row.id!));
}

/**
 * Records events without a tracking record: one INSERT (VALUES for one event, the cheapest
 * statement to plan and run; else from unnest, in the order of the events), returning the ids.
 */
async function insertEvents(
  datastore: PostgresDatastore,
  operation: string,
  tables: ApplicationTables,
  events: readonly StoredEvent[],
  pipelineId: number,
): Promise<number[]> {
  const columns = `INSERT INTO ${tables.events.sql} (pipeline_id, originator_id, originator_version, topic, state)`;
  if (events.length === 1) {
    const [event] = events;
    const rows = await datastore.queryArrays(
      operation,
      `${columns} VALUES ($1::integer, $2, $3::bigint, $4, $5::bytea) RETURNING id`,
      [pipelineId, event.originatorId, event.originatorVersion, event.topic, toBuffer(event.state)],
    );
    return [rows[0][0] as number];
  }
  const rows = await datastore.queryArrays(
    operation,
    `${columns}
    SELECT $1::integer, u.originator_id, u.originator_version, u.topic, u.state
    FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bytea[])
      WITH ORDINALITY AS u(originator_id, originator_version, topic, state, ordinal)
    ORDER BY u.ordinal
    RETURNING id`,
    [
      pipelineId,
      events.map((e) => e.originatorId),
      events.map((e) => e.originatorVersion),
      events.map((e) => e.topic),
      events.map((e) => toBuffer(e.state)),
    ],
  );
  // RETURNING gives the rows in insertion order, which follows the ordinals.
  return rows.map((row) => row[0] as number);
}
