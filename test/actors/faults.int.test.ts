// Supervision under faults: a policy that fails at random, a database whose connections are killed
// while commands flow. Counts must come out exact, with nothing processed twice.
import { setTimeout as sleep } from 'node:timers/promises';
import { ActorRunner, System } from '../../src';
import { World } from '../seed-example';
import { admin } from '../support/postgres';
import { withRetries } from '../support/retry';
import { postgresStore, sqliteStore, StoreSetup } from '../support/stores';
import { caughtUp, failingCounters, inLanes, processIn, tally, Worlds } from './support/systems';

const WHATS = ['dinosaurs', 'trucks', 'internet', 'rain', 'sun'];

describe.each([
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('a policy that fails on 10%% of calls, over %s', (_name, makeStore) => {
  const store: StoreSetup = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('still counts 2,000 commands exactly, each once', async () => {
    let calls = 0;
    let failures = 0;
    const FlakyCounters = failingCounters('FlakyCounters', () => {
      calls += 1;
      const fail = Math.random() < 0.1;
      if (fail) failures += 1;
      return fail;
    });
    const runner = new ActorRunner(new System({ pipes: [[Worlds, FlakyCounters]] }), {
      env: store.env(),
      pollIntervalMs: 50,
      supervision: { minBackoffMs: 1, maxBackoffMs: 10 },
    });
    await runner.start();
    try {
      const worlds = runner.get(Worlds);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await worlds.createWorld());
      // Ten lanes of commands, one per world; half through the application, half as messages.
      await inLanes(2000, 10, async (index, lane) => {
        const what = WHATS[index % WHATS.length];
        if (index % 2) await worlds.makeItSo(ids[lane], what);
        else await runner.ask(Worlds, 'makeItSo', [ids[lane], what]);
      });
      await runner.waitUntilIdle(40_000);

      const counters = runner.get(FlakyCounters);
      for (const what of WHATS) expect(await counters.getCount(what)).toBe(400);
      const { happened, incremented, counted, expected } = await tally(worlds, counters);
      expect(happened).toBe(2000);
      expect(incremented).toBe(2000); // exactly one Incremented per SomethingHappened
      expect(counted).toEqual(expected);
      expect(failures).toBeGreaterThan(100);
      expect(calls).toBeGreaterThanOrEqual(2010 + failures);

      const status = processIn(await runner.status(), 'FlakyCounters');
      expect(status.state).toEqual(caughtUp());
      expect(status.lag).toBe(0);
      expect(status.restarts).toBe(failures); // every failure restarted the slave once
      expect(status.lastError?.error.name).toBe('PolicyError');
    } finally {
      await runner.stop();
    }
  });
});

describe('killing the PostgreSQL connections while commands flow', () => {
  const store = postgresStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  class ActorKillWorlds extends Worlds {}
  const ActorKillCounters = failingCounters('ActorKillCounters', () => false);

  /** Kills every connection of this test's applications; resolves with how many. */
  const kill = async (): Promise<number> => {
    const rows = await admin<{ killed: boolean }>(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
        WHERE application_name IN ('es:ActorKillWorlds', 'es:ActorKillCounters') AND pid <> pg_backend_pid()`,
    );
    return rows.length;
  };

  it('recovers, and the counts come out exact', async () => {
    const runner = new ActorRunner(new System({ pipes: [[ActorKillWorlds, ActorKillCounters]] }), {
      env: store.env(),
      pollIntervalMs: 50,
      supervision: { minBackoffMs: 5, maxBackoffMs: 50 },
    });
    await runner.start();
    try {
      const worlds = runner.get(ActorKillWorlds);
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push(await worlds.createWorld());
      const done = new Array<number>(ids.length).fill(0);
      let commandFailures = 0;

      /** One command whose outcome may be unknown when it fails: the world's history says. */
      const makeItSo = async (lane: number, what: string) => {
        for (;;) {
          try {
            await worlds.makeItSo(ids[lane], what);
            break;
          } catch {
            commandFailures += 1;
            const history = await withRetries(() => worlds.getWorldHistory(ids[lane]));
            if (history.length === done[lane] + 1) break; // it was recorded before the connection died
          }
        }
        done[lane] += 1;
      };

      let killed = 0;
      let flowing = true;
      const killer = (async () => {
        while (flowing) {
          await sleep(40);
          killed += await kill();
        }
      })();
      await inLanes(400, ids.length, (index, lane) => makeItSo(lane, index % 3 ? 'often' : 'seldom'));
      flowing = false;
      await killer;
      await runner.waitUntilIdle(30_000);

      const counters = runner.get(ActorKillCounters);
      const { happened, incremented, counted, expected } = await tally(worlds, counters);
      expect(happened).toBe(400);
      expect(incremented).toBe(400);
      expect(counted).toEqual(expected);
      expect(await counters.getCount('often')).toBe(266);
      expect(await counters.getCount('seldom')).toBe(134);
      expect(killed).toBeGreaterThan(0);
      expect(processIn(await runner.status(), 'ActorKillCounters')).toMatchObject({ state: caughtUp(), lag: 0 });
      // How hard the test hit: commands that failed, and restarts of the process.
      expect(commandFailures + processIn(await runner.status(), 'ActorKillCounters').restarts).toBeGreaterThan(0);
    } finally {
      await runner.stop();
    }
  });
});

// World is imported for its registration: the workers decode World events.
void World;
