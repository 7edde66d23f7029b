import type { StoredEvent } from '../records';
import type { Parameters } from './parameters';
import { toBuffer } from './rows';
import type { Relation } from './tables';

/** What an INSERT into an events table returns of each row: the id, and the key that says whose it is. */
const RETURNING = 'RETURNING id, originator_id, originator_version';

/**
 * The INSERT of a write's events. Into an events table (with `pipelineId`), the table assigns ids
 * (and the txid) and returns them; into an aggregate table (without), nothing is returned. One
 * event is inserted with VALUES, the cheapest statement to plan and run; several from unnest, in
 * the order of the events, so that ids ascend with them. `onlyIf` (a condition) makes the rows
 * depend on another part of the statement, which VALUES cannot.
 */
export function insertEventsSql(
  p: Parameters,
  table: Relation,
  events: readonly StoredEvent[],
  pipelineId: number | undefined,
  onlyIf?: string,
): string {
  const logged = pipelineId !== undefined;
  const columns = `${logged ? 'pipeline_id, ' : ''}originator_id, originator_version, topic, state`;
  const pipeline = logged ? `${p.add(pipelineId, 'integer')}, ` : '';
  const returning = logged ? ` ${RETURNING}` : '';
  if (events.length === 1 && onlyIf === undefined) {
    const [event] = events;
    return `INSERT INTO ${table.sql} (${columns})
      VALUES (${pipeline}${p.add(event.originatorId, 'text')}, ${p.add(event.originatorVersion, 'bigint')}, ${p.add(event.topic, 'text')}, ${p.add(toBuffer(event.state), 'bytea')})${returning}`;
  }
  const unnest = [
    p.add(events.map((e) => e.originatorId), 'text[]'),
    p.add(events.map((e) => e.originatorVersion), 'bigint[]'),
    p.add(events.map((e) => e.topic), 'text[]'),
    p.add(events.map((e) => toBuffer(e.state)), 'bytea[]'),
  ];
  return `INSERT INTO ${table.sql} (${columns})
    SELECT ${pipeline}u.originator_id, u.originator_version, u.topic, u.state
    FROM unnest(${unnest.join(', ')}) WITH ORDINALITY AS u(originator_id, originator_version, topic, state, ordinal)
    ${onlyIf === undefined ? '' : `WHERE ${onlyIf}`}
    ORDER BY u.ordinal${returning}`;
}

/**
 * The ids of `events` from the rows the INSERT returned, arrays that begin with its RETURNING
 * columns (id, originator_id, originator_version), matched by key: SQL does not promise the order
 * of RETURNING rows. They do come in the order of the events in practice, so each row is first
 * compared with the event at its place, which makes no key strings; only a mismatch looks them up.
 */
export function notificationIdsOf(events: readonly StoredEvent[], rows: readonly unknown[][]): number[] {
  const ids = new Array<number>(events.length);
  for (let index = 0; index < events.length; index++) {
    const row = rows[index];
    const event = events[index];
    if (row === undefined || row[1] !== event.originatorId || row[2] !== event.originatorVersion) return idsByKey(events, rows);
    ids[index] = row[0] as number;
  }
  return ids;
}

function idsByKey(events: readonly StoredEvent[], rows: readonly unknown[][]): number[] {
  const ids = new Map<string, number>();
  for (const row of rows) ids.set(`${row[2] as number}:${row[1] as string}`, row[0] as number);
  return events.map((event) => ids.get(`${event.originatorVersion}:${event.originatorId}`)!);
}
