import type { Notification } from '../records';
import type { SelectNotificationsOptions } from '../recorders';
import type { PostgresDatastore } from './datastore';
import { toNotification, type NotificationRow } from './rows';
import type { Relation } from './tables';
import { HORIZON, readBelowWatermark } from './watermark';

/** Numbered parameters for a statement built piece by piece. */
class Parameters {
  readonly values: unknown[] = [];
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

const COLUMNS = 'e.id, e.txid::text AS txid, e.pipeline_id, e.originator_id, e.originator_version, e.topic, e.state';

function topicsOf(options: SelectNotificationsOptions): readonly string[] | undefined {
  return options.topics !== undefined && options.topics.length > 0 ? options.topics : undefined;
}

/**
 * 'lock' ordering: ids were assigned in commit order, so the log is simply read by id
 * (`start` inclusive unless `inclusiveOfStart` is false, `stop` inclusive).
 */
export async function selectNotificationsById(
  datastore: PostgresDatastore,
  table: Relation,
  start: number,
  limit: number,
  options: SelectNotificationsOptions,
): Promise<Notification[]> {
  const p = new Parameters();
  const first = options.inclusiveOfStart === false ? start + 1 : start;
  const where = [`e.id >= ${p.add(first, 'bigint')}`];
  if (options.stop !== undefined) where.push(`e.id <= ${p.add(options.stop, 'bigint')}`);
  if (options.pipelineId !== undefined) where.push(`e.pipeline_id = ${p.add(options.pipelineId, 'integer')}`);
  const topics = topicsOf(options);
  if (topics !== undefined) where.push(`e.topic = ANY(${p.add(topics, 'text[]')})`);
  const rows = await datastore.query<NotificationRow>(
    `selectNotifications on ${table.schema}.${table.name}`,
    `SELECT ${COLUMNS} FROM ${table.sql} e WHERE ${where.join(' AND ')} ORDER BY e.id LIMIT ${p.add(limit, 'bigint')}`,
    p.values,
  );
  return rows.map(toNotification);
}

interface WatermarkRow extends NotificationRow {
  readonly horizon_xmin: string;
  readonly head_txid: string | null;
}

/**
 * 'watermark' ordering: the log is ordered by (txid, id) and shows only rows below the horizon
 * (see watermark.ts). `start` and `stop` are notification ids, resolved to positions in that
 * order, in the same statement:
 *
 * - start 0 is the beginning (inclusive or not);
 * - when a row has id = start (in any pipeline), the position is (its txid, start): included when
 *   `inclusiveOfStart` (the default), else the log continues right after it;
 * - when no row has id = start (ids of rolled-back writes are never used), the log starts at the
 *   first row, in log order, below the horizon and of the selected pipeline, whose id is >= start
 *   (> start when not inclusive);
 * - `stop` likewise: (its txid, stop) when the row exists, else the last row in log order whose id
 *   is <= stop; rows after that position are not returned.
 */
export async function selectNotificationsByWatermark(
  datastore: PostgresDatastore,
  table: Relation,
  start: number,
  limit: number,
  options: SelectNotificationsOptions,
): Promise<Notification[]> {
  const p = new Parameters();
  const ctes = [`horizon AS MATERIALIZED (${HORIZON})`];
  const pipeline = options.pipelineId === undefined ? undefined : p.add(options.pipelineId, 'integer');
  const inPipeline = (alias: string): string => (pipeline === undefined ? '' : ` AND ${alias}.pipeline_id = ${pipeline}`);
  const where = ['e.txid < (SELECT xmin FROM horizon)'];
  if (pipeline !== undefined) where.push(`e.pipeline_id = ${pipeline}`);

  const exclusive = options.inclusiveOfStart === false;
  if (start > 0) {
    const startId = p.add(start, 'bigint');
    const skip = exclusive ? 1 : 0;
    // (txid, id) > (t, start) is (txid, id) >= (t, start + 1): every bound below is inclusive.
    ctes.push(`start_at AS MATERIALIZED (
      SELECT s.txid, s.id + ${skip} AS id FROM ${table.sql} s WHERE s.id = ${startId}
      UNION ALL
      (SELECT f.txid, f.id FROM ${table.sql} f
        WHERE NOT EXISTS (SELECT 1 FROM ${table.sql} x WHERE x.id = ${startId})
          AND f.id >= ${startId} + ${skip} AND f.txid < (SELECT xmin FROM horizon)${inPipeline('f')}
        ORDER BY f.txid, f.id LIMIT 1))`);
    where.push('(e.txid, e.id) >= ((SELECT txid FROM start_at), (SELECT id FROM start_at))');
  }
  if (options.stop !== undefined) {
    const stopId = p.add(options.stop, 'bigint');
    ctes.push(`stop_at AS MATERIALIZED (
      SELECT s.txid, s.id FROM ${table.sql} s WHERE s.id = ${stopId}
      UNION ALL
      (SELECT f.txid, f.id FROM ${table.sql} f
        WHERE NOT EXISTS (SELECT 1 FROM ${table.sql} x WHERE x.id = ${stopId})
          AND f.id <= ${stopId} AND f.txid < (SELECT xmin FROM horizon)${inPipeline('f')}
        ORDER BY f.txid DESC, f.id DESC LIMIT 1))`);
    where.push('(e.txid, e.id) <= ((SELECT txid FROM stop_at), (SELECT id FROM stop_at))');
  }
  const topics = topicsOf(options);
  if (topics !== undefined) where.push(`e.topic = ANY(${p.add(topics, 'text[]')})`);
  const limitParam = p.add(limit, 'bigint');

  // One row even when the page is empty (LEFT JOIN LATERAL), carrying the horizon and the txid
  // of the newest committed row, which readBelowWatermark uses to decide whether to wait.
  const sql = `WITH ${ctes.join(',\n')}
    SELECT (SELECT xmin FROM horizon)::text AS horizon_xmin,
      (SELECT h.txid FROM ${table.sql} h WHERE true${inPipeline('h')} ORDER BY h.txid DESC, h.id DESC LIMIT 1)::text AS head_txid,
      page.*
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
      SELECT ${COLUMNS} FROM ${table.sql} e WHERE ${where.join(' AND ')} ORDER BY e.txid, e.id LIMIT ${limitParam}
    ) AS page ON true
    ORDER BY page.txid::xid8, page.id`;

  const operation = `selectNotifications on ${table.schema}.${table.name}`;
  const reading = await readBelowWatermark(datastore.options.watermarkWaitMs, async () => {
    const rows = await datastore.query<WatermarkRow>(operation, sql, p.values);
    const page = rows.filter((row) => row.id !== null);
    return { xmin: rows[0].horizon_xmin, head: rows[0].head_txid, complete: page.length >= limit, page };
  });
  return reading.page.map(toNotification);
}
