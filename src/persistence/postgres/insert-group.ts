import { versionConflict } from '../errors';
import type { EventsWrite } from '../insert-events';
import type { Session } from './datastore';
import { Parameters } from './parameters';
import { toBuffer } from './rows';
import type { Relation } from './tables';

/**
 * A group of independent writes (group commit) as ONE statement: one round trip and one
 * transaction for all of them, each still accepted or refused on its own. The statement first
 * finds the writes that cannot be recorded (a version already in the table, or one an earlier
 * write of the group takes too), then inserts the events of all the others, write after write, so
 * that each write's ids are contiguous and all share one transaction id. A row committed by another
 * writer after the statement began makes it fail as a whole (unique_violation): the caller then
 * writes the group one write at a time.
 */
export class GroupWriteStatement {
  readonly writesEvents = true;
  private rows: readonly unknown[][] = [];

  constructor(
    private readonly table: Relation,
    private readonly writes: readonly EventsWrite[],
  ) {}

  async run(session: Session): Promise<void> {
    const p = new Parameters();
    const events = this.writes.flatMap((write, index) => write.events.map((event) => ({ event, index, pipelineId: write.pipelineId })));
    const input = [
      p.add(events.map((e) => e.event.originatorId), 'text[]'),
      p.add(events.map((e) => e.event.originatorVersion), 'bigint[]'),
      p.add(events.map((e) => e.event.topic), 'text[]'),
      p.add(events.map((e) => toBuffer(e.event.state)), 'bytea[]'),
      p.add(events.map((e) => e.pipelineId), 'integer[]'),
      p.add(events.map((e) => e.index), 'integer[]'),
    ];
    // Rows start with a kind: 'i', an inserted event (id, originator_id, originator_version);
    // 'r', a write refused (the write's index, and the version that refused it).
    this.rows = await session.queryArrays(
      `WITH input AS (
        SELECT * FROM unnest(${input.join(', ')})
          WITH ORDINALITY AS u(originator_id, originator_version, topic, state, pipeline_id, write, ordinal)
      ),
      refusals AS (
        SELECT i.write, i.originator_id, i.originator_version FROM input i
          JOIN ${this.table.sql} e ON e.originator_id = i.originator_id AND e.originator_version = i.originator_version
        UNION ALL
        SELECT b.write, b.originator_id, b.originator_version FROM input a
          JOIN input b ON a.originator_id = b.originator_id AND a.originator_version = b.originator_version AND a.write < b.write
      ),
      inserted AS (
        INSERT INTO ${this.table.sql} (pipeline_id, originator_id, originator_version, topic, state)
        SELECT i.pipeline_id, i.originator_id, i.originator_version, i.topic, i.state FROM input i
          WHERE i.write NOT IN (SELECT write FROM refusals) ORDER BY i.ordinal
        RETURNING id, originator_id, originator_version
      )
      SELECT 'i', id, originator_id, originator_version FROM inserted
      UNION ALL
      SELECT 'r', write::bigint, originator_id, originator_version FROM refusals`,
      p.values,
    );
  }

  /** For each write, its notification ids in the order of its events, or the conflict that refused it. */
  outcomes(where: string): Array<number[] | Error> {
    const ids = new Map<string, number>();
    const refused = new Map<number, { originatorId: string; originatorVersion: number }>();
    for (const [kind, id, originatorId, originatorVersion] of this.rows as Array<[string, number, string, number]>) {
      if (kind === 'i') ids.set(`${originatorVersion}:${originatorId}`, id);
      else if (!refused.has(id)) refused.set(id, { originatorId, originatorVersion });
    }
    return this.writes.map((write, index) => {
      const refusal = refused.get(index);
      if (refusal !== undefined) return versionConflict(where, refusal);
      return write.events.map((event) => ids.get(`${event.originatorVersion}:${event.originatorId}`)!);
    });
  }
}
