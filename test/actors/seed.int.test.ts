// The contract and the seeds' driving scripts on the ActorRunner, over every persistence module;
// and a new runner over the same durable store resuming exactly where the last one stopped.
import { ActorRunner } from '../../src';
import { Counters, system, WorldsApplication } from '../seed-example';
import { ALL_STORES } from '../support/stores';
import { caughtUp, processIn, tally } from './support/systems';

describe.each(ALL_STORES.map((make) => [make().name, make] as const))('the seed system on the ActorRunner with %s', (_store, makeStore) => {
  const store = makeStore();
  let runner: ActorRunner;
  beforeEach(async () => {
    await store.setUp();
    runner = new ActorRunner(system, { env: store.env() });
    await runner.start();
  });
  afterEach(async () => {
    await runner.stop();
    await store.tearDown();
  });

  it('passes the seed’s single-threaded script', async () => {
    const worlds = runner.get(WorldsApplication);
    const counters = runner.get(Counters);

    const worldId1 = await worlds.createWorld();
    const worldId2 = await worlds.createWorld();
    const worldId3 = await worlds.createWorld();
    await runner.waitUntilIdle();

    expect(await counters.getCount('dinosaurs')).toBe(0);
    expect(await counters.getCount('trucks')).toBe(0);
    expect(await counters.getCount('internet')).toBe(0);

    await worlds.makeItSo(worldId1, 'dinosaurs');
    await worlds.makeItSo(worldId2, 'dinosaurs');
    await worlds.makeItSo(worldId3, 'dinosaurs');
    await runner.waitUntilIdle();

    expect(await counters.getCount('dinosaurs')).toBe(3);
    expect(await counters.getCount('trucks')).toBe(0);
    expect(await counters.getCount('internet')).toBe(0);

    await worlds.makeItSo(worldId1, 'trucks');
    await worlds.makeItSo(worldId2, 'trucks');
    await runner.waitUntilIdle();

    expect(await counters.getCount('dinosaurs')).toBe(3);
    expect(await counters.getCount('trucks')).toBe(2);
    expect(await counters.getCount('internet')).toBe(0);

    await worlds.makeItSo(worldId1, 'internet');
    await runner.waitUntilIdle();

    expect(await counters.getCount('dinosaurs')).toBe(3);
    expect(await counters.getCount('trucks')).toBe(2);
    expect(await counters.getCount('internet')).toBe(1);
    expect(await worlds.getWorldHistory(worldId1)).toEqual(['dinosaurs', 'trucks', 'internet']);
  });

  it('passes the seed’s multi-threaded script', async () => {
    const worlds = runner.get(WorldsApplication);
    const counters = runner.get(Counters);

    const worldId1 = await worlds.createWorld();
    const worldId2 = await worlds.createWorld();
    const worldId3 = await worlds.createWorld();

    await worlds.makeItSo(worldId1, 'dinosaurs');
    await worlds.makeItSo(worldId2, 'dinosaurs');
    await worlds.makeItSo(worldId3, 'dinosaurs');

    await worlds.makeItSo(worldId1, 'trucks');
    await worlds.makeItSo(worldId2, 'trucks');

    await worlds.makeItSo(worldId1, 'internet');

    await runner.waitUntilIdle(); // the seed sleeps 10 ms here

    expect(await counters.getCount('dinosaurs')).toBe(3);
    expect(await counters.getCount('trucks')).toBe(2);
    expect(await counters.getCount('internet')).toBe(1);

    const status = processIn(await runner.status(), 'Counters');
    expect(status).toMatchObject({ state: caughtUp(), restarts: 0, lag: 0 });
    expect(status.upstreams).toEqual([{ upstreamName: 'WorldsApplication', position: 9, head: 9, lag: 0 }]);
  });
});

describe.each(ALL_STORES.filter((make) => make().durable).map((make) => [make().name, make] as const))(
  'a new ActorRunner over the same %s store',
  (_store, makeStore) => {
    const store = makeStore();
    beforeEach(() => store.setUp());
    afterEach(() => store.tearDown());

    it('resumes exactly where the last one stopped', async () => {
      const first = new ActorRunner(system, { env: store.env() });
      await first.start();
      const worlds = first.get(WorldsApplication);
      const ids = [await worlds.createWorld(), await worlds.createWorld()];
      for (let i = 0; i < 30; i++) await worlds.makeItSo(ids[i % 2], i % 3 ? 'often' : 'seldom');
      await first.waitUntilIdle();
      await first.stop();

      // Recorded while no runner runs: the next one catches up without being prompted.
      const alone = new WorldsApplication({ env: store.env() });
      for (let i = 0; i < 12; i++) await alone.makeItSo(ids[i % 2], i % 2 ? 'often' : 'later');
      await alone.close();

      const second = new ActorRunner(system, { env: store.env(), pollIntervalMs: 60_000 });
      await second.start();
      try {
        await second.waitUntilIdle();
        const counters = second.get(Counters);
        expect(await counters.getCount('often')).toBe(20 + 6);
        expect(await counters.getCount('seldom')).toBe(10);
        expect(await counters.getCount('later')).toBe(6);
        const { happened, incremented, counted, expected } = await tally(second.get(WorldsApplication), counters);
        expect(happened).toBe(42);
        expect(incremented).toBe(42);
        expect(counted).toEqual(expected);
        expect(await counters.trackingPosition('WorldsApplication')).toBe(await second.get(WorldsApplication).recorder.maxNotificationId(0));
      } finally {
        await second.stop();
      }
    });
  },
);
