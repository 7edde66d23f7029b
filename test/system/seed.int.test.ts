// The seeds' driving scripts (000: single-threaded and multi-threaded runs, with their
// assertions) on every runner and every persistence module, over the contract's system.
import { join } from 'node:path';
import type { Runner } from '../../src';
import { event, processSpecification, untilIdle } from '../../src/testing';
import { Counter, Counters, system, World, WorldsApplication } from '../seed-example';
import { runnerKinds } from '../support/runner-kinds';
import { ALL_STORES } from '../support/stores';

const RUNNERS = runnerKinds(system, join(__dirname, '..', 'seed-example.ts'));

describe.each(ALL_STORES.map((make) => [make().name, make] as const))('the seed system on %s', (_store, makeStore) => {
  const store = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  const runners = RUNNERS.filter((kind) => store.durable || !kind.sharedStoresOnly);
  describe.each(runners.map((kind) => [kind.name, kind] as const))('with the %s', (_runner, kind) => {
    let runner: Runner;
    beforeEach(async () => {
      runner = kind.make(store.env());
      await runner.start();
    });
    afterEach(() => runner.stop());

    it('passes the seed’s single-threaded script', async () => {
      const worlds = runner.get(WorldsApplication);
      const counters = runner.get(Counters);

      const worldId1 = await worlds.createWorld();
      const worldId2 = await worlds.createWorld();
      const worldId3 = await worlds.createWorld();
      await kind.settle(runner);

      expect(await counters.getCount('dinosaurs')).toBe(0);
      expect(await counters.getCount('trucks')).toBe(0);
      expect(await counters.getCount('internet')).toBe(0);

      await worlds.makeItSo(worldId1, 'dinosaurs');
      await worlds.makeItSo(worldId2, 'dinosaurs');
      await worlds.makeItSo(worldId3, 'dinosaurs');
      await kind.settle(runner);

      expect(await counters.getCount('dinosaurs')).toBe(3);
      expect(await counters.getCount('trucks')).toBe(0);
      expect(await counters.getCount('internet')).toBe(0);

      await worlds.makeItSo(worldId1, 'trucks');
      await worlds.makeItSo(worldId2, 'trucks');
      await kind.settle(runner);

      expect(await counters.getCount('dinosaurs')).toBe(3);
      expect(await counters.getCount('trucks')).toBe(2);
      expect(await counters.getCount('internet')).toBe(0);

      await worlds.makeItSo(worldId1, 'internet');
      await kind.settle(runner);

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

      await kind.settle(runner); // the seed sleeps 10 ms here

      expect(await counters.getCount('dinosaurs')).toBe(3);
      expect(await counters.getCount('trucks')).toBe(2);
      expect(await counters.getCount('internet')).toBe(1);
    });
  });
});

describe('the seed’s Counters policy (given/when/then)', () => {
  const counters = processSpecification(Counters, { upstream: WorldsApplication });
  const world = (...whats: string[]): World => {
    const made = World.create();
    for (const what of whats) made.makeItSo(what);
    return made;
  };

  it('creates a counter for the first thing that happens, and counts it', async () => {
    const { process } = await counters
      .when(world('dinosaurs'))
      .thenEvents(event(Counter.Created, {}, { originatorId: Counter.createId('dinosaurs') }), Counter.Incremented);
    expect(await process.getCount('dinosaurs')).toBe(1);
  });

  it('counts a thing again in any world, on the counter the earlier worlds made', async () => {
    await counters
      .given(world('dinosaurs', 'trucks'), world('dinosaurs'))
      .when(world('trucks'))
      .thenEvents(event(Counter.Incremented, {}, { originatorId: Counter.createId('trucks'), originatorVersion: 3 }));
  });

  it('counts nothing for a world that is only created', async () => {
    await counters.when(world()).thenNothingHappened();
  });
});
