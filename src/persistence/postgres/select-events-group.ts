import type { EventsRead, StoredEvent } from '../records';
import type { PostgresDatastore } from './datastore';
import { Parameters } from './parameters';
import type { Relation } from './tables';

/**
 * Several aggregates' events, each after a version of its own, in ONE statement (one round trip):
 * the reads of concurrent commands, taken together. Resolves with each read's events in version order.
 */
export async function selectEventsGroup(datastore: PostgresDatastore, table: Relation, reads: readonly EventsRead[]): Promise<StoredEvent[][]> {
  const p = new Parameters();
  const ids = p.add(reads.map((read) => read.originatorId), 'text[]');
  const after = p.add(reads.map((read) => read.gt ?? 0), 'bigint[]');
  const rows = await datastore.queryArrays(
    `selectEvents on ${table.schema}.${table.name}`,
    `SELECT q.ordinal, e.originator_id, e.originator_version, e.topic, e.state
     FROM unnest(${ids}, ${after}) WITH ORDINALITY AS q(originator_id, gt, ordinal)
     JOIN ${table.sql} e ON e.originator_id = q.originator_id AND e.originator_version > q.gt
     ORDER BY q.ordinal, e.originator_version`,
    p.values,
  );
  const events = reads.map((): StoredEvent[] => []);
  for (const row of rows) {
    events[(row[0] as number) - 1].push({ originatorId: row[1] as string, originatorVersion: row[2] as number, topic: row[3] as string, state: row[4] as Buffer });
  }
  return events;
}
