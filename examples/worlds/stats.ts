// A read model of the seeds' worlds: how often each thing happened, and how many things happened in
// each world, in two SQL tables that a projection keeps up to date with the worlds' notification
// log, exactly once. Query them with SQL: SELECT * FROM what_counts ORDER BY n DESC.
import { DomainEvent, Projection, SqlView, System, type ViewWriter } from '../../src';
import { World, WorldsApplication } from './domain';

export class WorldStats extends SqlView {
  static override tables = {
    what_counts: 'what TEXT PRIMARY KEY, n BIGINT NOT NULL',
    world_things: 'world_id TEXT PRIMARY KEY, things BIGINT NOT NULL',
  };

  /** A batch at a time: one statement per table, however many events (a rebuild is a few round trips per thousand events). */
  update(events: readonly DomainEvent[], sql: ViewWriter): void {
    const whats = new Map<string, number>();
    const worlds = new Map<string, number>();
    for (const event of events) {
      if (event instanceof World.Created) worlds.set(event.originatorId, worlds.get(event.originatorId) ?? 0);
      if (event instanceof World.SomethingHappened) {
        whats.set(event.what, (whats.get(event.what) ?? 0) + 1);
        worlds.set(event.originatorId, (worlds.get(event.originatorId) ?? 0) + 1);
      }
    }
    upsertAdding(sql, sql.table('what_counts'), 'what', 'n', whats);
    upsertAdding(sql, sql.table('world_things'), 'world_id', 'things', worlds);
  }

  /** How often `what` happened, in every world. */
  async countOf(what: string): Promise<number> {
    const row = await this.get<{ n: number }>(`SELECT n FROM ${this.table('what_counts')} WHERE what = ?`, [what]);
    return Number(row?.n ?? 0);
  }

  /** The things that happened most often, most first. */
  async top(limit = 10): Promise<Array<{ what: string; n: number }>> {
    const rows = await this.all<{ what: string; n: number }>(`SELECT what, n FROM ${this.table('what_counts')} ORDER BY n DESC, what LIMIT ?`, [limit]);
    return rows.map((row) => ({ what: row.what, n: Number(row.n) }));
  }

  /** How many things happened in one world (undefined for a world it has not seen). */
  async thingsIn(worldId: string): Promise<number | undefined> {
    const row = await this.get<{ things: number }>(`SELECT things FROM ${this.table('world_things')} WHERE world_id = ?`, [worldId]);
    return row === undefined ? undefined : Number(row.things);
  }
}

/** Adds each key's amount to its row (made at the amount if missing), in one statement for all the keys. */
function upsertAdding(sql: ViewWriter, table: string, key: string, column: string, amounts: ReadonlyMap<string, number>): void {
  if (amounts.size === 0) return;
  const values = [...amounts].flat();
  const rows = Array.from({ length: amounts.size }, () => '(?, ?)').join(', ');
  sql.run(`INSERT INTO ${table} (${key}, ${column}) VALUES ${rows} ON CONFLICT (${key}) DO UPDATE SET ${column} = ${table}.${column} + excluded.${column}`, values);
}

export class WorldStatsProjection extends Projection<WorldStats> {
  static override view = WorldStats;
}

export const statsSystem = new System({ pipes: [[WorldsApplication, WorldStatsProjection]] });
