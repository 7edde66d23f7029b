// A row written with SQL past the application, whose state would replace an event's prototype, is
// never skipped in silence: a follower whose policy ignores what it does not recognise fails on it
// (backing off, then failed) with a DataError naming the record, and moves on only when told to
// skip it, which records a SkippedNotification. A crafted snapshot is a DataError too.
import Database from 'better-sqlite3';
import { v4 as uuid4 } from 'uuid';
import { ActorRunner, DataError, PolicyError, SkippedNotification, System } from '../../src';
import { Counters, World } from '../seed-example';
import { admin } from '../support/postgres';
import { postgresStore, sqliteStore, StoreSetup } from '../support/stores';
import { CountersWithCommands, eventsIn, processIn, statusWhen, Worlds } from '../actors/support/systems';

const POISON = Buffer.from('{"timestamp":"2026-01-01T00:00:00.000Z","what":"dinosaurs","__proto__":{"what":"dinosaurs","polluted":true}}');

/** Writes a row into one of Worlds' tables with SQL, past every recorder. */
async function insertRow(store: StoreSetup, table: 'worlds_events' | 'worlds_snapshots', row: { id: string; version: number; topic: string; state: Buffer }): Promise<void> {
  const env = store.env();
  if (store.name === 'sqlite') {
    const db = new Database(env.SQLITE_DBNAME);
    try {
      db.prepare(`INSERT INTO "${table}" (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)`).run(row.id, row.version, row.topic, row.state);
    } finally {
      db.close();
    }
  } else {
    await admin(`INSERT INTO "${env.POSTGRES_SCHEMA}"."${table}" (originator_id, originator_version, topic, state) VALUES ($1, $2, $3, $4)`, [
      row.id,
      row.version,
      row.topic,
      row.state,
    ]);
  }
}

describe.each([
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('a crafted row on %s', (_name, makeStore) => {
  const store = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('stops a follower whose policy ignores unrecognised events: failed with a DataError naming the record, until skipped', async () => {
    const runner = new ActorRunner(new System({ pipes: [[Worlds, CountersWithCommands]] }), {
      env: store.env(),
      pollIntervalMs: 10, // the crafted row is written past the application: only the poll finds it
      supervision: { minBackoffMs: 1, maxBackoffMs: 2, maxRestarts: 2 },
    });
    await runner.start();
    try {
      const worlds = runner.get(Worlds);
      const id = await worlds.createWorld();
      for (let i = 0; i < 4; i++) await worlds.makeItSo(id, 'dinosaurs');
      await runner.waitUntilIdle();
      const crafted = uuid4();
      await insertRow(store, 'worlds_events', { id: crafted, version: 1, topic: 'World.SomethingHappened', state: POISON });
      for (let i = 0; i < 4; i++) await worlds.makeItSo(id, 'dinosaurs');

      const status = await statusWhen(runner, (s) => processIn(s, 'CountersWithCommands').state === 'failed');
      const failed = processIn(status, 'CountersWithCommands');
      expect(failed).toMatchObject({ lastError: { upstreamName: 'Worlds', notificationId: 6 }, upstreams: [{ position: 5, head: 10 }] });
      expect(failed.lastError?.error).toBeInstanceOf(PolicyError);
      expect((failed.lastError?.error as PolicyError).cause).toBeInstanceOf(DataError);
      expect(failed.lastError?.message).toContain(
        `cannot decode stored event 'World.SomethingHappened' v1 of ${crafted} (notification 6) of Worlds: ` +
          "its state sets '__proto__', which is not a plain data field of SomethingHappened",
      );
      expect(JSON.parse(JSON.stringify(failed.lastError))).toMatchObject({ error: { name: 'PolicyError' } });
      await expect(runner.waitUntilIdle(5000)).rejects.toThrow(PolicyError);
      // Nothing after the crafted row was counted, and nothing was skipped silently.
      const counters = runner.get(CountersWithCommands);
      expect(await counters.getCount('dinosaurs')).toBe(4);
      expect(await counters.trackingPosition('Worlds')).toBe(5);

      expect(await runner.skip(CountersWithCommands, 'crafted row')).toBe(6);
      await runner.waitUntilIdle();
      expect(await counters.getCount('dinosaurs')).toBe(8);
      const skipped = (await eventsIn(counters)).filter((event) => event instanceof SkippedNotification.Recorded);
      expect(skipped).toMatchObject([{ upstreamName: 'Worlds', notificationId: 6, reason: 'crafted row' }]);
      // Reading the crafted aggregate names it too.
      await expect(worlds.getWorldHistory(crafted)).rejects.toThrow(
        `cannot decode stored event 'World.SomethingHappened' v1 of ${crafted} of Worlds: its state sets '__proto__'`,
      );
    } finally {
      await runner.stop();
    }
  });

  it('refuses a crafted snapshot, naming it', async () => {
    const app = new Worlds({ env: { ...store.env(), IS_SNAPSHOTTING_ENABLED: 'true' } });
    try {
      const id = await app.createWorld();
      await app.makeItSo(id, 'dinosaurs');
      await app.takeSnapshot(id);
      const state = Buffer.from(`{"timestamp":"2026-01-01T00:00:00.000Z","topic":"World","state":{"id":"${id}","version":3,"history":[],"__proto__":{"makeItSo":1}}}`);
      await insertRow(store, 'worlds_snapshots', { id, version: 3, topic: 'eventsourcing:Snapshot', state });
      const fresh = new Worlds({ env: { ...store.env(), IS_SNAPSHOTTING_ENABLED: 'true' } });
      try {
        const error = await fresh.getWorldHistory(id).then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect(error).toBeInstanceOf(DataError);
        expect((error as Error).message).toBe(
          `cannot make aggregate ${id} from its snapshot at version 3 of Worlds: World cannot take a field named '__proto__': it is not a plain data field of the class`,
        );
      } finally {
        await fresh.close();
      }
    } finally {
      await app.close();
    }
  });
});

describe('a follower meeting an undecodable notification directly', () => {
  it('rejects and keeps its tracking position: its policy never sees it, so ignoring it cannot hide it', async () => {
    const worlds = new Worlds();
    const counters = new Counters();
    counters.follow(worlds.name, worlds.recorder, worlds.mapper);
    const seen: unknown[] = [];
    const policy = counters.policy.bind(counters);
    counters.policy = async (event, processEvent) => {
      seen.push(event);
      await policy(event, processEvent);
    };
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'before');
    await worlds.recorder.insertEvents([{ originatorId: uuid4(), originatorVersion: 1, topic: 'World.SomethingHappened', state: POISON }]);
    await worlds.makeItSo(id, 'after');
    const error = await counters.pullAndProcess(worlds.name).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).cause).toBeInstanceOf(DataError);
    expect(await counters.trackingPosition(worlds.name)).toBe(2);
    expect(seen).toHaveLength(2);
    expect(seen.every((event) => event instanceof World.Created || event instanceof World.SomethingHappened)).toBe(true);
    expect(await counters.getCount('before')).toBe(1);
    expect(await counters.getCount('after')).toBe(0);
    await counters.skipNext(worlds.name, 'crafted', { notificationId: 3 });
    expect(await counters.pullAndProcess(worlds.name)).toBe(1);
    expect(await counters.getCount('after')).toBe(1);
  });
});
