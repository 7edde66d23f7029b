import type { Tracking } from '../records';
import type { Parameters } from './parameters';
import type { Relation } from './tables';

/**
 * The compare-and-set that moves the position recorded for an upstream application and pipeline
 * from `previousNotificationId` to `notificationId`: with previousNotificationId 0 the row must not
 * exist yet (INSERT ... ON CONFLICT DO NOTHING), else it must still hold previousNotificationId
 * (UPDATE ... WHERE notification_id = previous). It returns a row when the position moved, none
 * when it did not. Concurrent writers queue on the row (or on the speculative insert) and the later
 * one, re-reading the row after the earlier one commits, moves nothing.
 */
export function advanceTrackingSql(p: Parameters, table: Relation, tracking: Tracking): string {
  const applicationName = p.add(tracking.applicationName, 'text');
  const pipelineId = p.add(tracking.pipelineId ?? 0, 'integer');
  const notificationId = p.add(tracking.notificationId, 'bigint');
  if (tracking.previousNotificationId === 0) {
    return `INSERT INTO ${table.sql} (application_name, pipeline_id, notification_id)
      VALUES (${applicationName}, ${pipelineId}, ${notificationId})
      ON CONFLICT (application_name, pipeline_id) DO NOTHING RETURNING 1`;
  }
  return `UPDATE ${table.sql} SET notification_id = ${notificationId}
    WHERE application_name = ${applicationName} AND pipeline_id = ${pipelineId}
      AND notification_id = ${p.add(tracking.previousNotificationId, 'bigint')} RETURNING 1`;
}
