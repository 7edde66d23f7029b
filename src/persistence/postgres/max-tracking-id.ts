import { trackingPositionQuery } from './advance-tracking';
import type { PostgresDatastore } from './datastore';
import { toNumber } from './rows';
import type { Relation } from './tables';

/** The last notification id recorded as processed from an upstream application (one pipeline), 0 when none. */
export async function maxTrackingId(
  datastore: PostgresDatastore,
  table: Relation,
  applicationName: string,
  pipelineId: number,
): Promise<number> {
  const rows = await datastore.query<{ notification_id: string }>(
    `maxTrackingId on ${table.schema}.${table.name}`,
    trackingPositionQuery(table),
    [applicationName, pipelineId],
  );
  return rows.length === 0 ? 0 : toNumber(rows[0].notification_id);
}
