import { OperationalError } from '../errors';
import type { Notification } from '../records';
import type { SelectNotificationsOptions } from '../recorders';
import type { PostgresDatastore } from './datastore';
import { Parameters } from './parameters';
import { NOTIFICATION_COLUMNS, toNotifications } from './rows';
import type { Relation } from './tables';
import { readBelowWatermark } from './watermark';

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
  const rows = await datastore.queryLogArrays(
    `selectNotifications on ${table.schema}.${table.name}`,
    `SELECT ${NOTIFICATION_COLUMNS} FROM ${table.sql} e WHERE ${where.join(' AND ')} ORDER BY e.id LIMIT ${p.add(limit, 'bigint')}`,
    p.values,
  );
  return toNotifications(rows);
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
 *
 * Both are one row comparison, `(txid, id) > (T, start)` (>= when inclusive) and
 * `(txid, id) <= (T, stop)`, with T the txid of the row whose id is start (stop) or, when there is
 * none, of that first (last) row: no row has id start then, and no row of the log lies between
 * (T, start) and that row, so the comparison selects the same rows. The page is then a range scan
 * of the (txid, id) index (or of (pipeline_id, txid, id)), with no sort and no join.
 *
 * A follower reads from a notification it has seen, so the start row exists: the statement first
 * tried finds T by the id index alone (the cheapest to plan and run) and reports whether the start
 * row exists; only when it does not is the read made again with the statement that also looks for
 * the first row after start (it would find nothing anyway, its position being NULL).
 *
 * One more row, whose id is null, carries the horizon, the txid of the newest committed row (which
 * readBelowWatermark uses to decide whether to wait) and whether the start row exists.
 */
export async function selectNotificationsByWatermark(
  datastore: PostgresDatastore,
  table: Relation,
  start: number,
  limit: number,
  options: SelectNotificationsOptions,
): Promise<Notification[]> {
  const operation = `selectNotifications on ${table.schema}.${table.name}`;
  const lean = watermarkStatement(table, start, limit, options, false);
  let general: { sql: string; values: unknown[] } | undefined;
  const reading = await readBelowWatermark(datastore.options, async () => {
    let rows = await datastore.queryLogArrays(operation, lean.sql, lean.values);
    if (metaOf(rows)[9] === false) {
      general ??= watermarkStatement(table, start, limit, options, true);
      rows = await datastore.queryLogArrays(operation, general.sql, general.values);
    }
    const meta = metaOf(rows);
    const page = inLogOrder(toNotifications(rows));
    return { xmin: meta[7] as string, head: meta[8] as string | null, waitedFor: meta[10] as string | null, complete: page.length >= limit, page };
  });
  if (reading.heldBack) {
    throw new OperationalError(
      `${operation}: notification ${options.waitFor} is committed, but a transaction that began before it has kept it out of ` +
        `the log for more than ${datastore.options.visibilityTimeoutMs} ms (see pg_stat_activity for a long-running one)`,
    );
  }
  return reading.page;
}

/** The row whose id is null: [...NULLs, horizon, head txid, whether the start row exists, txid of waitFor]. */
function metaOf(rows: readonly unknown[][]): readonly unknown[] {
  return rows.find((row) => row[0] === null)!;
}

/**
 * The statement of a watermark read (see selectNotificationsByWatermark). With `findStart`, T of
 * `start` also falls back to the first row after it; without, it is only that of the row whose id
 * is start.
 */
function watermarkStatement(
  table: Relation,
  start: number,
  limit: number,
  options: SelectNotificationsOptions,
  findStart: boolean,
): { sql: string; values: unknown[] } {
  const p = new Parameters();
  // pg_current_snapshot() is stable: one value in a statement, however often it is used.
  const horizon = 'pg_snapshot_xmin(pg_current_snapshot())';
  const pipeline = options.pipelineId === undefined ? undefined : p.add(options.pipelineId, 'integer');
  const inPipeline = (alias: string): string => (pipeline === undefined ? '' : ` AND ${alias}.pipeline_id = ${pipeline}`);
  const where = [`e.txid < ${horizon}`];
  if (pipeline !== undefined) where.push(`e.pipeline_id = ${pipeline}`);
  let startExists = 'NULL::boolean';
  if (start > 0) {
    const startId = p.add(start, 'bigint');
    const own = `(SELECT s.txid FROM ${table.sql} s WHERE s.id = ${startId})`;
    const txid = findStart
      ? `COALESCE(${own},
        (SELECT f.txid FROM ${table.sql} f WHERE f.id > ${startId} AND f.txid < ${horizon}${inPipeline('f')}
          ORDER BY f.txid, f.id LIMIT 1))`
      : own;
    where.push(`(e.txid, e.id) ${options.inclusiveOfStart === false ? '>' : '>='} (${txid}, ${startId})`);
    if (!findStart) startExists = `EXISTS (SELECT FROM ${table.sql} x WHERE x.id = ${startId})`;
  }
  if (options.stop !== undefined) {
    const stopId = p.add(options.stop, 'bigint');
    const txid = `COALESCE(
        (SELECT s.txid FROM ${table.sql} s WHERE s.id = ${stopId}),
        (SELECT f.txid FROM ${table.sql} f WHERE f.id < ${stopId} AND f.txid < ${horizon}${inPipeline('f')}
          ORDER BY f.txid DESC, f.id DESC LIMIT 1))`;
    where.push(`(e.txid, e.id) <= (${txid}, ${stopId})`);
  }
  const topics = topicsOf(options);
  if (topics !== undefined) where.push(`e.topic = ANY(${p.add(topics, 'text[]')})`);
  const limitParam = p.add(limit, 'bigint');
  const sql = `SELECT NULL::bigint, NULL::xid8, NULL::integer, NULL::text, NULL::bigint, NULL::text, NULL::bytea,
      ${horizon}::text,
      (SELECT h.txid FROM ${table.sql} h WHERE true${inPipeline('h')} ORDER BY h.txid DESC, h.id DESC LIMIT 1)::text,
      ${startExists},
      ${options.waitFor === undefined ? 'NULL::text' : `(SELECT w.txid FROM ${table.sql} w WHERE w.id = ${p.add(options.waitFor, 'bigint')})::text`}
    UNION ALL
    (SELECT ${NOTIFICATION_COLUMNS}, NULL, NULL, NULL, NULL FROM ${table.sql} e
      WHERE ${where.join(' AND ')} ORDER BY e.txid, e.id LIMIT ${limitParam})`;
  return { sql, values: p.values };
}

/** Compares two xid8 values given as decimal strings (without leading zeros). */
function compareTxids(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The page in (txid, id) order. The statement's page is a range scan of the (txid, id) index in
 * that order and a UNION ALL keeps it, but SQL does not promise the order of a union's rows: this
 * checks it (a pass over the page) and sorts only if it ever were not.
 */
function inLogOrder(page: Notification[]): Notification[] {
  for (let index = 1; index < page.length; index++) {
    const order = compareTxids(page[index - 1].txid!, page[index].txid!) || page[index - 1].id - page[index].id;
    if (order > 0) return page.sort((a, b) => compareTxids(a.txid!, b.txid!) || a.id - b.id);
  }
  return page;
}
