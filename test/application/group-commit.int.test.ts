// Group commit: saves made while another is in flight are written together (one transaction),
// each accepted or refused on its own; followers see every notification of a group, in order.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationRecorder, Notification, RecordConflictError } from '../../src';
import { Counters, World, WorldsApplication } from '../seed-example';
import { memoryStore, postgresStore, sqliteStore, StoreSetup } from '../support/stores';

/** Counts the groups (and their sizes) that an application's recorder was given. */
function watchGroups(recorder: ApplicationRecorder): number[] {
  const sizes: number[] = [];
  const insertGroup = recorder.insertGroup.bind(recorder);
  recorder.insertGroup = (writes) => {
    sizes.push(writes.length);
    return insertGroup(writes);
  };
  return sizes;
}

describe.each([
  ['memory', memoryStore],
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('group commit over %s', (_name, makeStore) => {
  const store: StoreSetup = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('writes concurrent saves together, each recorded once, and a follower processes each exactly once', async () => {
    const worlds = new WorldsApplication({ env: store.env() });
    const counters = new Counters({ env: store.env() });
    counters.follow(worlds.name, worlds.recorder, worlds.mapper);
    const groups = watchGroups(worlds.recorder);
    try {
      const worldsMade = Array.from({ length: 64 }, () => World.create());
      for (const world of worldsMade) world.makeItSo(`thing-${world.id.charCodeAt(0) % 4}`);
      const saved = await Promise.all(worldsMade.map((world) => worlds.save(world)));
      expect(saved.flat()).toHaveLength(128);
      if (store.name === 'postgres') expect(Math.max(...groups)).toBeGreaterThan(1); // they waited for one in flight
      await counters.pullAndProcess(worlds.name);
      let total = 0;
      for (let i = 0; i < 4; i++) total += await counters.getCount(`thing-${i}`);
      expect(total).toBe(64);
      // Each save's notifications are contiguous.
      for (const recordings of saved) expect(recordings[1].notificationId).toBe(recordings[0].notificationId + 1);
    } finally {
      await Promise.all([worlds.close(), counters.close()]);
    }
  });

  it('refuses only the save that conflicts in a group; a save of several aggregates is all or nothing', async () => {
    const worlds = new WorldsApplication({ env: store.env() });
    const groups = watchGroups(worlds.recorder);
    try {
      const id = await worlds.createWorld();
      const stale = await worlds.repository.get<World>(id);
      const current = await worlds.repository.get<World>(id);
      current.makeItSo('first');
      stale.makeItSo('stale');
      const fresh = World.create();
      fresh.makeItSo('fresh');
      const partner = World.create(); // saved with the stale world: it must not be recorded either
      partner.makeItSo('partner');
      const outcomes = await Promise.allSettled([worlds.save(current), worlds.save(stale, partner), worlds.save(fresh)]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(RecordConflictError);
      if (store.name === 'postgres') expect(groups).toEqual([2]); // the second and third waited for the first, together
      expect(await worlds.getWorldHistory(id)).toEqual(['first']);
      expect(await worlds.getWorldHistory(fresh.id)).toEqual(['fresh']);
      expect(await worlds.repository.contains(partner.id)).toBe(false);
    } finally {
      await worlds.close();
    }
  });
});

describe('grouped reads on PostgreSQL', () => {
  const store = postgresStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('reads the aggregates of concurrent commands together, each as it is', async () => {
    const worlds = new WorldsApplication({ env: store.env() });
    const other = new WorldsApplication({ env: store.env() }); // writes behind the first one's cache
    try {
      const ids = await Promise.all(Array.from({ length: 16 }, () => worlds.createWorld()));
      for (const [index, id] of ids.entries()) await other.makeItSo(id, `n${index}`);
      const groups: number[] = [];
      const selectEventsGroup = worlds.recorder.selectEventsGroup!.bind(worlds.recorder);
      worlds.recorder.selectEventsGroup = (reads) => {
        groups.push(reads.length);
        return selectEventsGroup(reads);
      };
      // Cached by the first application at version 1; fast-forwarded together by newer events.
      const histories = await Promise.all(ids.map((id) => worlds.getWorldHistory(id)));
      expect(histories).toEqual(ids.map((_, index) => [`n${index}`]));
      expect(Math.max(...groups)).toBeGreaterThan(1);
      const fresh = await Promise.all([...ids, 'no-such-world'].map((id) => worlds.repository.get(id).then(() => 'found', (error: Error) => error.name)));
      expect(fresh).toEqual([...ids.map(() => 'found'), 'AggregateNotFound']);
    } finally {
      await Promise.all([worlds.close(), other.close()]);
    }
  });
});

describe('group commit on PostgreSQL under 8 concurrent connections', () => {
  const store = postgresStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('shows a tailing reader every notification once, in order, each save’s events together', async () => {
    const writers = Array.from({ length: 8 }, () => new WorldsApplication({ env: { ...store.env(), POSTGRES_POOL_SIZE: '1' } }));
    const reader = new WorldsApplication({ env: store.env() });
    const groups = writers.map((writer) => watchGroups(writer.recorder));
    const total = 8 * 40 * 2;
    const seen: Notification[] = [];
    let writing = true;
    const tail = (async () => {
      let position = 0;
      while (seen.length < total) {
        const page = await reader.recorder.selectNotifications(position, 50, { inclusiveOfStart: false });
        seen.push(...page);
        if (page.length > 0) position = page[page.length - 1].id;
        else if (!writing) await sleep(5);
      }
    })();
    try {
      await Promise.all(
        writers.map(async (writer) => {
          for (let round = 0; round < 4; round++) {
            const made = Array.from({ length: 10 }, () => World.create());
            for (const world of made) world.makeItSo('x');
            await Promise.all(made.map((world) => writer.save(world)));
          }
        }),
      );
      writing = false;
      await tail;
      expect(seen).toHaveLength(total);
      expect(new Set(seen.map((n) => n.id)).size).toBe(total); // each once
      // Each world's two events are next to each other in the log: a save is never split.
      const byWorld = new Map<string, number[]>();
      seen.forEach((notification, index) => byWorld.set(notification.originatorId, [...(byWorld.get(notification.originatorId) ?? []), index]));
      for (const positions of byWorld.values()) expect(positions[1]).toBe(positions[0] + 1);
      expect(groups.flat().some((size) => size > 1)).toBe(true);
    } finally {
      writing = false;
      await Promise.all([...writers, reader].map((app) => app.close()));
    }
  });
});
