// The systems the projection tests run: the worlds example's WorldStats view beside a chain in
// which a projection follows a process application (Counters), and the same stats kept in memory.
import { DomainEvent, MemoryView, Projection, SqlView, System, type ViewWriter } from '../../src';
import { World, WorldsApplication } from '../../examples/worlds/domain';
import { Counter, Counters } from '../../examples/worlds/counters';
import { WorldStatsProjection } from '../../examples/worlds/stats';

/** Each counter's count, as the Counters process application's events say. */
export class CounterTotals extends SqlView {
  static override tables = { counter_totals: 'counter_id TEXT PRIMARY KEY, count BIGINT NOT NULL' };

  update(events: readonly DomainEvent[], sql: ViewWriter): void {
    const table = sql.table('counter_totals');
    for (const event of events) {
      if (event instanceof Counter.Created) sql.run(`INSERT INTO ${table} (counter_id, count) VALUES (?, 0)`, [event.originatorId]);
      if (event instanceof Counter.Incremented) sql.run(`UPDATE ${table} SET count = count + 1 WHERE counter_id = ?`, [event.originatorId]);
    }
  }

  async totals(): Promise<Record<string, number>> {
    const rows = await this.all<{ counter_id: string; count: number }>(`SELECT counter_id, count FROM ${this.table('counter_totals')} ORDER BY counter_id`);
    return Object.fromEntries(rows.map((row) => [row.counter_id, Number(row.count)]));
  }
}

export class CounterBoard extends Projection<CounterTotals> {
  static override view = CounterTotals;
}

export const system = new System({
  pipes: [
    [WorldsApplication, WorldStatsProjection],
    [WorldsApplication, Counters, CounterBoard],
  ],
});

interface StatsState {
  whats: Record<string, number>;
  worlds: Record<string, number>;
}

/** WorldStats, kept in memory. */
export class MemoryWorldStats extends MemoryView<StatsState> {
  initialState(): StatsState {
    return { whats: {}, worlds: {} };
  }

  update(events: readonly DomainEvent[], draft: StatsState): void {
    for (const event of events) {
      if (event instanceof World.Created) draft.worlds[event.originatorId] ??= 0;
      if (event instanceof World.SomethingHappened) {
        draft.whats[event.what] = (draft.whats[event.what] ?? 0) + 1;
        draft.worlds[event.originatorId] = (draft.worlds[event.originatorId] ?? 0) + 1;
      }
    }
  }
}

export class MemoryStatsProjection extends Projection<MemoryWorldStats> {
  static override view = MemoryWorldStats;
}

export const memorySystem = new System({ pipes: [[WorldsApplication, MemoryStatsProjection]] });
