import type { PostgresDatastore } from './datastore';
import { toNumber } from './rows';
import type { Relation } from './tables';
import { HORIZON, readBelowWatermark } from './watermark';

/** 'lock' ordering: the greatest id (of one pipeline), 0 when none. */
export async function maxNotificationIdById(
  datastore: PostgresDatastore,
  table: Relation,
  pipelineId: number | undefined,
): Promise<number> {
  const rows = await datastore.query<{ id: string | null }>(
    `maxNotificationId on ${table.schema}.${table.name}`,
    pipelineId === undefined
      ? `SELECT max(id) AS id FROM ${table.sql}`
      : `SELECT max(id) AS id FROM ${table.sql} WHERE pipeline_id = $1::integer`,
    pipelineId === undefined ? [] : [pipelineId],
  );
  return rows[0].id === null ? 0 : toNumber(rows[0].id);
}

/**
 * 'watermark' ordering: the id of the last notification in log order, (txid, id), below the
 * horizon (of one pipeline), 0 when none. Waits like selectNotifications for transactions that
 * hold back rows committed before the call.
 */
export async function maxNotificationIdByWatermark(
  datastore: PostgresDatastore,
  table: Relation,
  pipelineId: number | undefined,
): Promise<number> {
  const inPipeline = (alias: string): string => (pipelineId === undefined ? '' : ` AND ${alias}.pipeline_id = $1::integer`);
  const sql = `WITH horizon AS MATERIALIZED (${HORIZON})
    SELECT (SELECT xmin FROM horizon)::text AS horizon_xmin,
      (SELECT h.txid FROM ${table.sql} h WHERE true${inPipeline('h')} ORDER BY h.txid DESC, h.id DESC LIMIT 1)::text AS head_txid,
      (SELECT e.id FROM ${table.sql} e WHERE e.txid < (SELECT xmin FROM horizon)${inPipeline('e')}
        ORDER BY e.txid DESC, e.id DESC LIMIT 1) AS id`;
  const operation = `maxNotificationId on ${table.schema}.${table.name}`;
  const reading = await readBelowWatermark(datastore.options, async () => {
    const [row] = await datastore.query<{ horizon_xmin: string; head_txid: string | null; id: string | null }>(
      operation,
      sql,
      pipelineId === undefined ? [] : [pipelineId],
    );
    return { xmin: row.horizon_xmin, head: row.head_txid, complete: false, id: row.id };
  });
  return reading.id === null ? 0 : toNumber(reading.id);
}
