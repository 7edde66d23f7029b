import { trackingConflict } from '../errors';
import type { StoredEvent, Tracking } from '../records';
import { advanceTrackingSql } from './advance-tracking';
import type { Session } from './datastore';
import { insertEventsSql, notificationIdsOf } from './insert-events';
import { Parameters } from './parameters';
import type { Relation } from './tables';
import { selectTrackingPosition } from './tracking-position';

/**
 * One write as ONE statement, so one round trip, atomic on its own. The insertEvents steps build
 * it (the tracking record, then the events); the log's ordering sends it. With a tracking record,
 * the compare-and-set runs first, in a data-modifying CTE, and the events are inserted only if it
 * moved the position: a tracking record that does not apply writes nothing and raises
 * TrackingConflictError; a taken version fails the whole statement (unique_violation).
 */
export class WriteStatement {
  private tracking: { readonly table: Relation; readonly record: Tracking } | undefined;
  private events: readonly StoredEvent[] = [];
  /** Undefined for an aggregate table: no pipeline ids, no notification ids. */
  private pipelineId: number | undefined;
  /** The rows of the inserted events, once run (see notificationIdsOf). */
  private inserted: readonly unknown[][] = [];

  /** `table`: where the events go. */
  constructor(private readonly table: Relation) {}

  advanceTracking(table: Relation, tracking: Tracking): void {
    this.tracking = { table, record: tracking };
  }

  insertEvents(events: readonly StoredEvent[], pipelineId?: number): void {
    this.events = events;
    this.pipelineId = pipelineId;
  }

  get writesEvents(): boolean {
    return this.events.length > 0;
  }

  get isEmpty(): boolean {
    return this.tracking === undefined && this.events.length === 0;
  }

  /** Sends the statement in `session` (which may be a transaction the ordering opened). */
  async run(session: Session): Promise<void> {
    const p = new Parameters();
    const { tracking, events } = this;
    if (tracking === undefined) {
      this.inserted = await session.queryArrays(insertEventsSql(p, this.table, events, this.pipelineId), p.values);
      return;
    }
    const advance = advanceTrackingSql(p, tracking.table, tracking.record);
    if (events.length === 0) {
      const moved = await session.queryArrays(advance, p.values);
      if (moved.length === 0) throw await this.trackingConflict(session);
      return;
    }
    const insert = insertEventsSql(p, this.table, events, this.pipelineId, 'EXISTS (SELECT FROM tracked)');
    // One row per inserted event, or one row of NULLs when none was: the last column says whether the position moved.
    const rows = await session.queryArrays(
      `WITH tracked AS (${advance}), inserted AS (${insert})
      SELECT inserted.*, (SELECT count(*) FROM tracked)::integer AS moved FROM (SELECT 1) AS one LEFT JOIN inserted ON true`,
      p.values,
    );
    if (rows[0][rows[0].length - 1] === 0) throw await this.trackingConflict(session);
    this.inserted = rows;
  }

  /** The events' notification ids, in the order of the events (none for an aggregate table). */
  notificationIds(): number[] {
    return notificationIdsOf(this.events, this.inserted);
  }

  private async trackingConflict(session: Session): Promise<Error> {
    const { table, record } = this.tracking!;
    return trackingConflict(record, await selectTrackingPosition(session, table, record.applicationName, record.pipelineId ?? 0));
  }
}
