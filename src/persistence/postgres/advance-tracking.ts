import type { PoolClient } from 'pg';
import { trackingConflict } from '../errors';
import type { Tracking } from '../records';
import { toNumber } from './rows';
import type { Relation } from './tables';

/**
 * Moves the position recorded for an upstream application and pipeline from
 * `previousNotificationId` to `notificationId` (compare-and-set, as the memory recorder does):
 * with previousNotificationId 0 the row must not exist yet (INSERT ... ON CONFLICT DO NOTHING),
 * else it must still hold previousNotificationId (UPDATE ... WHERE notification_id = previous).
 * No row written raises TrackingConflictError; the caller rolls the transaction back. Concurrent
 * writers queue on the row (or on the speculative insert) and the later one, re-reading the row
 * after the earlier one commits, writes nothing.
 */
export async function advanceTracking(client: PoolClient, table: Relation, tracking: Tracking): Promise<void> {
  const pipelineId = tracking.pipelineId ?? 0;
  const result =
    tracking.previousNotificationId === 0
      ? await client.query(
          `INSERT INTO ${table.sql} (application_name, pipeline_id, notification_id) VALUES ($1, $2::integer, $3::bigint)
           ON CONFLICT (application_name, pipeline_id) DO NOTHING`,
          [tracking.applicationName, pipelineId, tracking.notificationId],
        )
      : await client.query(
          `UPDATE ${table.sql} SET notification_id = $3::bigint
           WHERE application_name = $1 AND pipeline_id = $2::integer AND notification_id = $4::bigint`,
          [tracking.applicationName, pipelineId, tracking.notificationId, tracking.previousNotificationId],
        );
  if (result.rowCount !== 1) {
    throw trackingConflict(tracking, await trackingPosition(client, table, tracking.applicationName, pipelineId));
  }
}

/** The notification id recorded for an upstream application and pipeline (no row: none recorded). */
export function trackingPositionQuery(table: Relation): string {
  return `SELECT notification_id FROM ${table.sql} WHERE application_name = $1 AND pipeline_id = $2::integer`;
}

/** The position recorded now (inside the transaction), for the conflict's message. */
async function trackingPosition(client: PoolClient, table: Relation, applicationName: string, pipelineId: number): Promise<number> {
  const { rows } = await client.query<{ notification_id: string }>(trackingPositionQuery(table), [applicationName, pipelineId]);
  return rows.length === 0 ? 0 : toNumber(rows[0].notification_id);
}
