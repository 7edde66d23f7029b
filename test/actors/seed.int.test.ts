// A new ActorRunner over the same durable store resumes exactly where the last one stopped. (The
// seeds' driving scripts run on the ActorRunner with every other runner, in test/system/seed.int.test.ts.)
import { ActorRunner } from '../../src';
import { Counters, system, WorldsApplication } from '../seed-example';
import { ALL_STORES } from '../support/stores';
import { caughtUp, processIn, tally } from './support/systems';

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
