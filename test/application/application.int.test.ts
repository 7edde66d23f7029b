import {
  AggregateNotFound,
  Application,
  ApplicationError,
  ConfigurationError,
  DataError,
  generateCipherKey,
  RecordConflictError,
} from '../../src';
import { ALL_STORES } from '../support/stores';
import { World, WorldsApplication } from '../seed-example';

describe.each(ALL_STORES.map((make) => [make().name, make] as const))('Application on %s', (_name, makeStore) => {
  const store = makeStore();
  const opened: Application[] = [];
  const open = <A extends Application>(make: (env: Record<string, string>) => A, env: Record<string, string> = {}): A => {
    const app = make({ ...store.env(), ...env });
    opened.push(app);
    return app;
  };
  const worldsApp = (env: Record<string, string> = {}) => open((e) => new WorldsApplication({ env: e }), env);

  beforeEach(() => store.setUp());
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((app) => app.close()));
    await store.tearDown();
  });

  it('runs the seed’s World commands', async () => {
    const app = worldsApp();
    expect(app.name).toBe('WorldsApplication');
    const id1 = await app.createWorld();
    const id2 = await app.createWorld();
    await app.makeItSo(id1, 'dinosaurs');
    await app.makeItSo(id2, 'trucks');
    await app.makeItSo(id1, 'internet');
    expect(await app.getWorldHistory(id1)).toEqual(['dinosaurs', 'internet']);
    expect(await app.getWorldHistory(id2)).toEqual(['trucks']);
    const world = await app.repository.get<World>(id1);
    expect(world).toBeInstanceOf(World);
    expect(world.version).toBe(3);
  });

  it('gets an aggregate as it was at an earlier version, and AggregateNotFound for what is not there', async () => {
    const app = worldsApp();
    const id = await app.createWorld();
    await app.makeItSo(id, 'a');
    await app.makeItSo(id, 'b');
    expect((await app.repository.get<World>(id, { version: 2 })).history).toEqual(['a']);
    expect((await app.repository.get<World>(id, { version: 1 })).history).toEqual([]);
    await expect(app.repository.get('no-such-world')).rejects.toThrow(AggregateNotFound);
    await expect(app.repository.get('no-such-world')).rejects.toThrow('aggregate no-such-world not found');
    await expect(app.repository.get(id, { version: 0 })).rejects.toThrow(DataError);
    expect(await app.repository.contains(id)).toBe(true);
    expect(await app.repository.contains('no-such-world')).toBe(false);
  });

  it('refuses the second of two concurrent changes to one aggregate, keeping nothing of it', async () => {
    const app = worldsApp();
    const id = await app.createWorld();
    const first = await app.repository.get<World>(id);
    const second = await app.repository.get<World>(id);
    first.makeItSo('first');
    second.makeItSo('second');
    await app.save(first);
    await expect(app.save(second)).rejects.toThrow(RecordConflictError);
    expect(await app.getWorldHistory(id)).toEqual(['first']);
  });

  it('saves several aggregates atomically', async () => {
    const app = worldsApp();
    const id = await app.createWorld();
    const stale = await app.repository.get<World>(id);
    await app.makeItSo(id, 'winner');
    const fresh = World.create();
    stale.makeItSo('loser');
    await expect(app.save(fresh, stale)).rejects.toThrow(RecordConflictError);
    await expect(app.repository.get(fresh.id)).rejects.toThrow(AggregateNotFound);
    const recordings = await app.save(World.create(), World.create());
    expect(recordings.length).toBe(2);
    expect(recordings[1].notificationId).toBeGreaterThan(recordings[0].notificationId);
  });

  it('lists every saved event in its notification log, in sections', async () => {
    const app = worldsApp();
    const ids = [await app.createWorld(), await app.createWorld()];
    for (let i = 0; i < 12; i++) await app.makeItSo(ids[i % 2], `thing-${i}`);
    const all = await app.notificationLog.select(1, 100);
    expect(all.length).toBe(14);
    expect(all.map((n) => n.topic).slice(0, 3)).toEqual(['World.Created', 'World.Created', 'World.SomethingHappened']);
    const first = await app.notificationLog.section('1,10');
    expect(first.items.length).toBe(10);
    expect(first.id).toBe(`${all[0].id},${all[9].id}`);
    expect(first.nextId).not.toBeNull();
    const second = await app.notificationLog.section(first.nextId!);
    expect(second.items.map((n) => n.id)).toEqual(all.slice(10).map((n) => n.id));
    expect(second.nextId).toBeNull();
    const event = app.mapper.toDomainEvent(all[2]) as InstanceType<typeof World.SomethingHappened>;
    expect(event.what).toBe('thing-0');
    await expect(app.notificationLog.section('ten')).rejects.toThrow(/section id must look like "1,10"/);
    expect(await app.recorder.maxNotificationId()).toBe(all[13].id);
  });

  it('takes snapshots every N events and starts from the latest one', async () => {
    const app = open((env) => new WorldsApplication({ env: { ...env, AGGREGATE_CACHE_MAXSIZE: '0' }, snapshottingIntervals: new Map([[World, 3]]) }));
    const id = await app.createWorld();
    for (const what of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) await app.makeItSo(id, what);
    const snapshots = await app.snapshots!.get(id);
    expect(snapshots.map((s) => s.originatorVersion)).toEqual([3, 6]);
    const reads: unknown[] = [];
    const selectEvents = app.recorder.selectEvents.bind(app.recorder);
    app.recorder.selectEvents = (originatorId, options) => {
      reads.push(options);
      return selectEvents(originatorId, options);
    };
    const world = await app.repository.get<World>(id);
    expect(world.history).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(world.version).toBe(8);
    expect(reads).toEqual([{ gt: 6, lte: undefined }]);
    const earlier = await app.repository.get<World>(id, { version: 4 });
    expect(earlier.history).toEqual(['a', 'b', 'c']);
    world.makeItSo('h');
    await app.save(world);
    expect((await app.repository.get<World>(id)).history.at(-1)).toBe('h');
  });

  it('takes a snapshot on request, when snapshotting is enabled', async () => {
    const plain = worldsApp();
    const id = await plain.createWorld();
    await expect(plain.takeSnapshot(id)).rejects.toThrow(ApplicationError);
    const app = worldsApp({ IS_SNAPSHOTTING_ENABLED: 'y' });
    const otherId = await app.createWorld();
    await app.makeItSo(otherId, 'x');
    await app.takeSnapshot(otherId);
    await app.takeSnapshot(otherId); // the same version again is harmless
    expect((await app.snapshots!.get(otherId)).map((s) => s.originatorVersion)).toEqual([2]);
    expect(await app.getWorldHistory(otherId)).toEqual(['x']);
  });

  it('compresses and encrypts stored events when configured', async () => {
    const app = worldsApp({ COMPRESSOR: 'zlib', CIPHER_KEY: generateCipherKey() });
    const id = await app.createWorld();
    await app.makeItSo(id, 'secret-dinosaurs');
    const [, stored] = await app.recorder.selectEvents(id);
    expect(Buffer.from(stored.state).includes(Buffer.from('secret-dinosaurs'))).toBe(false);
    expect(await app.getWorldHistory(id)).toEqual(['secret-dinosaurs']);
  });

  it('refuses work after close', async () => {
    const app = worldsApp();
    await app.close();
    await expect(app.createWorld()).rejects.toThrow(/application WorldsApplication is closed/);
    await app.close();
  });

  it('hands out copies of cached aggregates, so no two commands share one object', async () => {
    const app = worldsApp();
    const id = await app.createWorld();
    await app.makeItSo(id, 'a');
    const first = await app.repository.get<World>(id);
    const second = await app.repository.get<World>(id);
    expect(first).not.toBe(second);
    first.makeItSo('only-in-first');
    expect(second.history).toEqual(['a']);
    expect(await app.getWorldHistory(id)).toEqual(['a']);
    expect(app.repository.cache!.size).toBe(1);
  });

  it('keeps its own copy of a saved aggregate, moved on by the saved events, apart from the caller’s object', async () => {
    const app = worldsApp();
    const id = await app.createWorld();
    const world = await app.repository.get<World>(id);
    world.makeItSo('saved');
    await app.save(world);
    // The caller's object goes on changing after the save, without saving again.
    world.makeItSo('never-saved');
    world.history.push('scribbled');
    const cached = await app.repository.get<World>(id);
    expect(cached.history).toEqual(['saved']);
    expect(cached.version).toBe(2);
    expect(cached.modifiedOn).toEqual((await app.repository.get<World>(id, { version: 2 })).modifiedOn);
    await app.makeItSo(id, 'next');
    expect(await app.getWorldHistory(id)).toEqual(['saved', 'next']);
  });

  if (store.durable) {
    it('fast-forwards a cached aggregate by what another writer recorded', async () => {
      const app = worldsApp();
      const other = worldsApp();
      const id = await app.createWorld();
      expect(await app.getWorldHistory(id)).toEqual([]);
      await other.makeItSo(id, 'elsewhere');
      expect(await app.getWorldHistory(id)).toEqual(['elsewhere']);
    });

    it('without fast-forward, refuses to save a stale cached aggregate and forgets it', async () => {
      const app = worldsApp({ AGGREGATE_CACHE_FASTFORWARD: 'false' });
      const other = worldsApp();
      const id = await app.createWorld();
      await other.makeItSo(id, 'elsewhere');
      expect(await app.getWorldHistory(id)).toEqual([]); // stale, by choice
      await expect(app.makeItSo(id, 'here')).rejects.toThrow(RecordConflictError);
      await app.makeItSo(id, 'here');
      expect(await app.getWorldHistory(id)).toEqual(['elsewhere', 'here']);
    });

    it('finds everything again after closing and reopening', async () => {
      const app = worldsApp();
      const id = await app.createWorld();
      await app.makeItSo(id, 'persisted');
      await app.close();
      const reopened = worldsApp();
      expect(await reopened.getWorldHistory(id)).toEqual(['persisted']);
      await reopened.makeItSo(id, 'again');
      expect(await reopened.getWorldHistory(id)).toEqual(['persisted', 'again']);
    });

    it('gives a clear error when reopened with the wrong CIPHER_KEY', async () => {
      const app = worldsApp({ CIPHER_KEY: generateCipherKey() });
      const id = await app.createWorld();
      await app.close();
      const wrong = worldsApp({ CIPHER_KEY: generateCipherKey() });
      await expect(wrong.getWorldHistory(id)).rejects.toThrow(/wrong CIPHER_KEY/);
    });

    it('refuses an application name that cannot be a table name', async () => {
      class BadName extends Application {
        static override applicationName = 'bad;name';
      }
      expect(() => open((env) => new BadName({ env }))).toThrow(ConfigurationError);
    });
  }
});

describe('Application configuration', () => {
  it('defaults to memory and reads settings from the process environment overlaid by env', () => {
    const app = new WorldsApplication();
    expect(app.env.get('PERSISTENCE')).toBeUndefined();
    expect(app.factory.constructor.name).toBe('MemoryInfrastructureFactory');
  });

  it('names the key of a bad PERSISTENCE value', () => {
    expect(() => new WorldsApplication({ env: { PERSISTENCE: 'mongo' } })).toThrow(
      "PERSISTENCE='mongo' is neither a registered persistence module (memory, sqlite, postgres",
    );
    expect(() => new WorldsApplication({ env: { WORLDSAPPLICATION_PERSISTENCE: 'mongo' } })).toThrow(
      /^WORLDSAPPLICATION_PERSISTENCE='mongo'/,
    );
  });

  it('prefers a setting prefixed with the application’s name', () => {
    const app = new WorldsApplication({ env: { PERSISTENCE: 'sqlite', WORLDSAPPLICATION_PERSISTENCE: 'memory' } });
    expect(app.factory.constructor.name).toBe('MemoryInfrastructureFactory');
  });

  it('names the missing or malformed setting', () => {
    expect(() => new WorldsApplication({ env: { PERSISTENCE: 'sqlite' } })).toThrow(
      /SQLITE_DBNAME \(or WORLDSAPPLICATION_SQLITE_DBNAME\) must be set/,
    );
    expect(() => new WorldsApplication({ env: { CIPHER_KEY: 'short' } })).toThrow(/CIPHER_KEY must be 32 bytes/);
    expect(() => new WorldsApplication({ env: { WORLDSAPPLICATION_CIPHER_KEY: 'short' } })).toThrow(
      /WORLDSAPPLICATION_CIPHER_KEY must be 32 bytes/,
    );
    expect(() => new WorldsApplication({ env: { COMPRESSOR: 'lz4' } })).toThrow(/COMPRESSOR='lz4' is not valid/);
    expect(() => new WorldsApplication({ env: { IS_SNAPSHOTTING_ENABLED: 'perhaps' } })).toThrow(
      /IS_SNAPSHOTTING_ENABLED='perhaps'/,
    );
    expect(() => new WorldsApplication({ env: { PERSISTENCE: 'postgres', POSTGRES_POOL_SIZE: 'many' } })).toThrow(
      /POSTGRES_POOL_SIZE='many' is not valid: expected an integer >= 1/,
    );
    expect(() => new WorldsApplication({ pipelineId: -1 })).toThrow(/pipelineId must be an integer >= 0/);
    expect(
      () => new WorldsApplication({ snapshottingIntervals: new Map([[World, 0]]) }),
    ).toThrow(/snapshotting interval of World must be an integer >= 1/);
  });
});
