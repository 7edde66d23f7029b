// What the projection tests send and expect: commands to the worlds, and the views they must make.
import { Counter } from '../../examples/worlds/counters';
import type { WorldsApplication } from '../../examples/worlds/domain';
import type { WorldStats } from '../../examples/worlds/stats';
import type { CounterTotals } from './stats-system';

export const WHATS = ['trucks', 'internet', 'dinosaurs', 'dogs', 'cats', 'rain', 'sun'];

/** What the views must show, computed from the commands sent. */
export class Expected {
  readonly whats: Record<string, number> = {};
  readonly worlds: Record<string, number> = {};

  created(worldId: string): void {
    this.worlds[worldId] = 0;
  }

  happened(worldId: string, what: string): void {
    this.whats[what] = (this.whats[what] ?? 0) + 1;
    this.worlds[worldId] += 1;
  }

  get counterTotals(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.whats).map(([what, n]) => [Counter.createId(what), n]).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  get sortedWhats(): Array<{ what: string; n: number }> {
    return Object.entries(this.whats)
      .map(([what, n]) => ({ what, n }))
      .sort((a, b) => b.n - a.n || (a.what < b.what ? -1 : 1));
  }
}

/**
 * Sends `count` commands: `worldCount` worlds created, then things happening in them, the worlds
 * taking turns, one command per world at a time (so several are in flight, none conflicting).
 */
export async function sendCommands(worlds: WorldsApplication, count: number, expected = new Expected(), worldCount = 20, offset = 0): Promise<Expected> {
  const ids = await Promise.all(Array.from({ length: worldCount }, () => worlds.createWorld()));
  for (const id of ids) expected.created(id);
  let sent = worldCount;
  for (let round = 0; sent < count; round++) {
    const batch = ids.slice(0, Math.min(ids.length, count - sent));
    await Promise.all(
      batch.map((id, index) => {
        const what = WHATS[(offset + round * 3 + index) % WHATS.length];
        expected.happened(id, what);
        return worlds.makeItSo(id, what);
      }),
    );
    sent += batch.length;
  }
  return expected;
}

/** Everything a WorldStats view shows of the worlds in `expected`. */
export async function statsOf(view: WorldStats, expected: Expected): Promise<{ whats: Array<{ what: string; n: number }>; worlds: Record<string, number | undefined> }> {
  const worlds: Record<string, number | undefined> = {};
  for (const id of Object.keys(expected.worlds)) worlds[id] = await view.thingsIn(id);
  return { whats: await view.top(100), worlds };
}

export async function totalsOf(view: CounterTotals): Promise<Record<string, number>> {
  return view.totals();
}
