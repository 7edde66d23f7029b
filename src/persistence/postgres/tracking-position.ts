import type { Session } from './datastore';
import type { Relation } from './tables';

/** The last notification id recorded as processed from an upstream application (one pipeline), 0 when none. */
export async function selectTrackingPosition(session: Session, table: Relation, applicationName: string, pipelineId: number): Promise<number> {
  const rows = await session.queryArrays(
    `SELECT notification_id FROM ${table.sql} WHERE application_name = $1::text AND pipeline_id = $2::integer`,
    [applicationName, pipelineId],
  );
  return rows.length === 0 ? 0 : (rows[0][0] as number);
}
