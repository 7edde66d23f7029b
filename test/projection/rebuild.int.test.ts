// Rebuilding a projection without downtime, on SQLite and PostgreSQL: while commands keep arriving
// and the live projection keeps processing them, a new generation is built beside the live one and
// switched to atomically; readers with their own connections never see a half-built view; the
// result equals a view built from scratch; an interrupted rebuild is resumed; reset starts over.
import { MultiThreadedRunner } from '../../src';
import { untilIdle } from '../../src/testing';
import { WorldsApplication } from '../../examples/worlds/domain';
import { WorldStatsProjection } from '../../examples/worlds/stats';
import { postgresStore, sqliteStore } from '../support/stores';
import { openSqlReader } from './sql-reader';
import { system } from './stats-system';
import { Expected, sendCommands, statsOf, WHATS } from './support';

describe.each([
  ['SQLite', sqliteStore],
  ['PostgreSQL', postgresStore],
] as const)('rebuilding a projection on %s', (_name, makeStore) => {
  const store = makeStore();
  let runner: MultiThreadedRunner;
  beforeEach(async () => {
    await store.setUp();
    runner = new MultiThreadedRunner(system, { env: store.env() });
    await runner.start();
  });
  afterEach(async () => {
    await runner.stop();
    await store.tearDown();
  });

  it('builds a new generation while commands arrive, switches readers atomically, and equals a view built from scratch', async () => {
    const worlds = runner.get(WorldsApplication);
    const stats = runner.get(WorldStatsProjection);
    const expected = await sendCommands(worlds, 600);
    await untilIdle(runner);
    const baseline = 600 - 20; // things that happened, in the live view before the rebuild

    // Commands keep arriving, and the live projection keeps processing them.
    let sending = true;
    const ids = Object.keys(expected.worlds);
    const commands = (async () => {
      for (let round = 0; sending; round++) {
        await Promise.all(
          ids.slice(0, 5).map((id, index) => {
            const what = WHATS[(round + index) % WHATS.length];
            expected.happened(id, what);
            return worlds.makeItSo(id, what);
          }),
        );
      }
    })();

    // Readers with their own connections, as any SQL client: each read sees one whole generation.
    const reader = await openSqlReader(store.env());
    let reading = true;
    const seen: number[] = [];
    const violations: string[] = [];
    const check = async () => {
      const [row] = await reader.all<{ whats: number | string; things: number | string }>(
        'SELECT (SELECT COALESCE(SUM(n), 0) FROM what_counts) AS whats, (SELECT COALESCE(SUM(things), 0) FROM world_things) AS things',
      );
      const whats = Number(row.whats);
      if (whats !== Number(row.things)) violations.push(`the two tables disagree: ${whats} things by what, ${row.things} by world`);
      if (whats < baseline) violations.push(`a read saw ${whats} things, fewer than the ${baseline} the live view had before the rebuild`);
      if (seen.length > 0 && whats < seen[seen.length - 1]) violations.push(`a read saw ${whats} things after one that saw ${seen[seen.length - 1]}`);
      seen.push(whats);
    };
    const reads = (async () => {
      while (reading) {
        await check();
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    // And a read between every two batches of the rebuild, wherever the loop stands.
    let checks = Promise.resolve();
    let reports = 0;

    const phases: string[] = [];
    let lastFraction = 0;
    const report = await stats.rebuild({
      batchSize: 25,
      onProgress: (progress) => {
        if (phases[phases.length - 1] !== progress.phase) phases.push(progress.phase);
        lastFraction = progress.fraction;
        reports += 1;
        checks = checks.then(check);
      },
    });
    sending = false;
    await commands;
    await untilIdle(runner);
    reading = false;
    await reads;
    await checks;
    await reader.close();

    expect(violations).toEqual([]);
    expect(reports).toBeGreaterThan(20); // 600 notifications and more, 25 a batch
    expect(seen.length).toBeGreaterThan(reports);
    expect(report).toMatchObject({ generation: 2, retired: 1, resumed: false });
    expect(report.applied).toBeGreaterThanOrEqual(600);
    // Building, then switching; when the live projection was ahead at the switch, it built on and switched again.
    expect([phases[0], ...phases.slice(-2)]).toEqual(['building', 'switching', 'done']);
    expect(phases.filter((phase) => phase === 'done')).toHaveLength(1);
    expect(report.attempts).toBeGreaterThanOrEqual(1);
    expect(lastFraction).toBe(1);
    expect(await stats.liveGeneration()).toEqual({ generation: 2, version: 1 });
    expect(await statsOf(stats.view, expected)).toEqual({ whats: expected.sortedWhats, worlds: expected.worlds });

    // The old generation's tables are gone.
    const tables = await openSqlReader(store.env());
    try {
      const names =
        store.name === 'sqlite'
          ? await tables.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE name LIKE 'what_counts%' ORDER BY name`)
          : await tables.all<{ name: string }>(
              `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'what_counts%' ORDER BY 1`,
            );
      expect(names.map((row) => row.name)).toEqual(['what_counts', 'what_counts__g2']);
    } finally {
      await tables.close();
    }
  });

  it('resumes an interrupted rebuild, leaving the live view alone meanwhile', async () => {
    const worlds = runner.get(WorldsApplication);
    const stats = runner.get(WorldStatsProjection);
    const expected = await sendCommands(worlds, 300);
    await untilIdle(runner);
    const abort = new AbortController();
    let batches = 0;
    const interrupted = await stats.rebuild({
      batchSize: 20,
      signal: abort.signal,
      onProgress: (progress) => {
        if (progress.phase === 'building' && ++batches === 4) abort.abort();
      },
    });
    expect(interrupted).toMatchObject({ aborted: true, generation: 2 });
    expect(await stats.liveGeneration()).toEqual({ generation: 1, version: 1 });
    await sendCommands(worlds, 40, expected);
    await untilIdle(runner);
    expect(await statsOf(stats.view, expected)).toEqual({ whats: expected.sortedWhats, worlds: expected.worlds });

    const resumed = await stats.rebuild({ batchSize: 20 });
    expect(resumed).toMatchObject({ generation: 2, retired: 1, resumed: true });
    expect(resumed.applied).toBeLessThan(340); // it carried on where the first one stopped
    expect(await statsOf(stats.view, expected)).toEqual({ whats: expected.sortedWhats, worlds: expected.worlds });
  });

  it('resets a view and its tracking, and the running projection builds it again from the start', async () => {
    const worlds = runner.get(WorldsApplication);
    const stats = runner.get(WorldStatsProjection);
    const expected = await sendCommands(worlds, 200);
    await untilIdle(runner);
    expect(await stats.reset()).toBe(2);
    await untilIdle(runner);
    expect(await statsOf(stats.view, expected)).toEqual({ whats: expected.sortedWhats, worlds: expected.worlds });
    expect(await stats.trackingPosition('WorldsApplication')).toBe(await worlds.recorder.maxNotificationId());
  });

  it('lets a reader wait for the view to show its own command (read-your-writes)', async () => {
    const worlds = runner.get(WorldsApplication);
    const stats = runner.get(WorldStatsProjection);
    const id = await worlds.createWorld();
    for (let index = 0; index < 5; index++) {
      await worlds.makeItSo(id, 'read your writes');
      await stats.waitFor(await worlds.recorder.maxNotificationId());
      expect(await stats.view.countOf('read your writes')).toBe(index + 1);
    }
    await expect(stats.waitFor(10_000)).rejects.toThrow('notification 10000 of WorldsApplication is not recorded');
  });

  it('starts an empty view that readers can query before anything happened', async () => {
    const reader = new WorldStatsProjection({ env: store.env() });
    try {
      expect(await reader.view.top()).toEqual([]);
      expect(new Expected().sortedWhats).toEqual([]);
    } finally {
      await reader.close();
    }
  });
});
