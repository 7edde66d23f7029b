// Projections on every runner over both SQL stores (and memory views on the runners of one
// process): after 2,000 commands, the views hold exactly what the commands made, and status shows
// the projections with kind 'projection'.
import { join } from 'node:path';
import type { Runner } from '../../src';
import { untilIdle } from '../../src/testing';
import { WorldsApplication } from '../../examples/worlds/domain';
import { WorldStatsProjection } from '../../examples/worlds/stats';
import { runnerKinds } from '../support/runner-kinds';
import { memoryStore, postgresStore, sqliteStore } from '../support/stores';
import { CounterBoard, memorySystem, MemoryStatsProjection, system } from './stats-system';
import { sendCommands, statsOf } from './support';

const COMMANDS = 2000;
const SYSTEM_MODULE = join(__dirname, 'stats-system.ts');

describe.each([
  ['SQLite', sqliteStore],
  ['PostgreSQL', postgresStore],
] as const)('projections on %s', (_name, makeStore) => {
  const store = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  describe.each(runnerKinds(system, SYSTEM_MODULE).map((kind) => [kind.name, kind] as const))('with the %s', (_runner, kind) => {
    let runner: Runner;
    beforeEach(async () => {
      runner = kind.make(store.env());
      await runner.start();
    });
    afterEach(() => runner.stop());

    it(`keeps views that hold exactly what ${COMMANDS} commands made, and shows them in status as projections`, async () => {
      const expected = await sendCommands(runner.get(WorldsApplication), COMMANDS);
      await untilIdle(runner);
      const stats = runner.get(WorldStatsProjection);
      expect(await statsOf(stats.view, expected)).toEqual({ whats: expected.sortedWhats, worlds: expected.worlds });
      expect(await runner.get(CounterBoard).view.totals()).toEqual(expected.counterTotals);
      const processes = (await runner.status()).pipelines[0].processes;
      expect(processes.map((process) => [process.applicationName, process.kind, process.lag]).sort()).toEqual([
        ['CounterBoard', 'projection', 0],
        ['Counters', 'process', 0],
        ['WorldStatsProjection', 'projection', 0],
      ]);
    });
  });
});

describe('memory views', () => {
  const store = memoryStore();
  const kinds = runnerKinds(memorySystem, SYSTEM_MODULE, 'memorySystem').filter((kind) => !kind.sharedStoresOnly);
  describe.each(kinds.map((kind) => [kind.name, kind] as const))('with the %s', (_runner, kind) => {
    it(`hold exactly what ${COMMANDS} commands made`, async () => {
      const runner = kind.make(store.env());
      await runner.start();
      try {
        const expected = await sendCommands(runner.get(WorldsApplication), COMMANDS);
        await untilIdle(runner);
        expect(await runner.get(MemoryStatsProjection).view.state()).toEqual({ whats: expected.whats, worlds: expected.worlds });
      } finally {
        await runner.stop();
      }
    });
  });
});
