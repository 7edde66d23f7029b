// The operator's commands for projections, against real stores (a SQLite file, a PostgreSQL schema
// of its own): status shows projections with their kind; rebuild builds a new generation with a
// progress bar and switches to it; reset clears a view and its tracking only when told --yes; bad
// arguments get a usage message and a non-zero exit, and change nothing.
import { join } from 'node:path';
import { WorldsApplication } from '../../examples/worlds/domain';
import { WorldStatsProjection } from '../../examples/worlds/stats';
import { cli, finished } from '../support/cli';
import { postgresStore, sqliteStore, type StoreSetup } from '../support/stores';
import { sendCommands, statsOf } from '../projection/support';

const SYSTEM = join('test', 'projection', 'stats-system.ts');

describe.each<[string, () => StoreSetup]>([
  ['SQLite', sqliteStore],
  ['PostgreSQL', postgresStore],
])('the projection commands on %s', (_name, makeStore) => {
  const store = makeStore();
  let env: Record<string, string>;
  let worlds: WorldsApplication;
  let stats: WorldStatsProjection;
  beforeEach(async () => {
    await store.setUp();
    env = { ...store.env(), POSTGRES_POOL_SIZE: '2' };
    worlds = new WorldsApplication({ env });
    stats = new WorldStatsProjection({ env });
    stats.follow(worlds.name, worlds.recorder, worlds.mapper);
  });
  afterEach(async () => {
    await Promise.allSettled([worlds.close(), stats.close()]);
    await store.tearDown();
  });

  it('status shows the projections beside the process applications, with their kind', async () => {
    await sendCommands(worlds, 60);
    await stats.pullAndProcess(worlds.name);
    const json = await finished(cli(['status', '--system', SYSTEM, '--json'], env));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).processes.map((row: { applicationName: string; kind: string; lag: number }) => [row.applicationName, row.kind, row.lag])).toEqual([
      ['WorldStatsProjection', 'projection', 0],
      ['Counters', 'process', 60],
      ['CounterBoard', 'projection', 0],
    ]);
    const table = await finished(cli(['status', '--system', SYSTEM], env));
    expect(table.stdout).toMatch(/^WorldStatsProjection\s+projection\s+0\s+WorldsApplication 60\/60\s+0$/m);
  });

  it('rebuild builds a new generation with a progress bar, switches readers to it, and the view is exact', async () => {
    const expected = await sendCommands(worlds, 500);
    await stats.pullAndProcess(worlds.name);
    const run = await finished(cli(['rebuild', 'WorldStatsProjection', '--system', SYSTEM, '--batch-size', '50'], env));
    expect(run).toMatchObject({ code: 0, stdout: 'WorldStatsProjection: rebuilt as generation 2 from 500 notifications; readers switched, generation 1 dropped\n' });
    expect(run.stderr).toMatch(/rebuilding generation 2 \[[^\]]+\] 100% \| 500 notifications \| done/);
    expect(await stats.liveGeneration()).toEqual({ generation: 2, version: 1 });
    expect(await statsOf(stats.view, expected)).toEqual({ whats: expected.sortedWhats, worlds: expected.worlds });
    await sendCommands(worlds, 30, expected);
    expect(await stats.pullAndProcess(worlds.name)).toBe(30); // the live projection carries on from the new generation
    expect(await statsOf(stats.view, expected)).toEqual({ whats: expected.sortedWhats, worlds: expected.worlds });
  });

  it('reset clears the view and its tracking only when told --yes', async () => {
    await sendCommands(worlds, 40);
    await stats.pullAndProcess(worlds.name);
    const refused = await finished(cli(['reset', 'WorldStatsProjection', '--system', SYSTEM], env));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/reset clears the view of WorldStatsProjection and its tracking: say --yes to do it/);
    expect(await stats.trackingPosition(worlds.name)).toBe(40);

    const run = await finished(cli(['reset', 'WorldStatsProjection', '--system', SYSTEM, '--yes'], env));
    expect(run).toMatchObject({ code: 0, stdout: 'WorldStatsProjection: reset; its view is generation 2, empty, and its tracking is cleared\n' });
    expect(await stats.trackingPosition(worlds.name)).toBe(0);
    expect(await stats.view.top()).toEqual([]);
  });

  it('refuses bad arguments with a usage message, changing nothing', async () => {
    await sendCommands(worlds, 25);
    await stats.pullAndProcess(worlds.name);
    const cases: Array<[string[], RegExp]> = [
      [['rebuild', 'Counters', '--system', SYSTEM], /Counters is not a projection \(the projections are: WorldStatsProjection, CounterBoard\)/],
      [['rebuild', 'Nowhere', '--system', SYSTEM], /Nowhere is not an application of this system \(it has: WorldsApplication, WorldStatsProjection, Counters, CounterBoard\)/],
      [['rebuild', 'WorldStatsProjection', '--system', SYSTEM, '--batch-size', '0'], /option '--batch-size <n>' argument '0' is invalid. expected an integer >= 1/],
      [['rebuild', 'WorldStatsProjection'], /required option '--system <path>' not specified/],
      [['reset', 'Counters', '--system', SYSTEM, '--yes'], /Counters is not a projection/],
      [['rebuild', 'WorldStatsProjection', '--system', SYSTEM, '--pipelines', 'x'], /--pipelines must be ids or ranges/],
    ];
    for (const [args, message] of cases) {
      const run = await finished(cli(args, env));
      expect({ args, code: run.code === 0 ? 0 : 'non-zero', stdout: run.stdout }).toEqual({ args, code: 'non-zero', stdout: '' });
      expect(run.stderr).toMatch(message);
    }
    expect(await stats.liveGeneration()).toEqual({ generation: 1, version: 1 });
    expect(await stats.trackingPosition(worlds.name)).toBe(25);
  });
});
