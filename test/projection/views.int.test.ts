// A view's failures and mistakes, on SQLite and PostgreSQL: a view that fails on one notification
// stops its projection there (what came before it is kept, in the same batch too), the skip moves
// past it and a rebuild skips it again; a view class of another version is refused until rebuilt;
// a view's update that is async on SQLite, and views on the wrong store, are refused clearly.
import {
  ConfigurationError,
  DomainEvent,
  MemoryView,
  PolicyError,
  Projection,
  SkippedNotification,
  SqlView,
  type ViewWriter,
} from '../../src';
import { World, WorldsApplication } from '../../examples/worlds/domain';
import { memoryStore, postgresStore, sqliteStore } from '../support/stores';

/** Counts what happened, and cannot stand poison. */
class PickyCounts extends SqlView {
  static override tables: Readonly<Record<string, string>> = { picky_counts: 'what TEXT PRIMARY KEY, n BIGINT NOT NULL' };

  update(events: readonly DomainEvent[], sql: ViewWriter): void {
    for (const event of events) {
      if (!(event instanceof World.SomethingHappened)) continue;
      if (event.what === 'poison') throw new Error('cannot stand poison');
      const table = sql.table('picky_counts');
      sql.run(`INSERT INTO ${table} (what, n) VALUES (?, 1) ON CONFLICT (what) DO UPDATE SET n = ${table}.n + 1`, [event.what]);
    }
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.all<{ what: string; n: number }>(`SELECT what, n FROM ${this.table('picky_counts')} ORDER BY what`);
    return Object.fromEntries(rows.map((row) => [row.what, Number(row.n)]));
  }
}

class Picky extends Projection<PickyCounts> {
  static override view = PickyCounts;
}

/** The same projection (by name), with a view class one version on. */
class PickyCountsV2 extends PickyCounts {
  static override version = 2;
}

class PickyV2 extends Projection<PickyCountsV2> {
  static override applicationName = 'Picky';
  static override view = PickyCountsV2;
}

class AsyncCounts extends PickyCounts {
  override async update(events: readonly DomainEvent[], sql: ViewWriter): Promise<void> {
    await Promise.resolve();
    super.update(events, sql);
  }
}

class AsyncPicky extends Projection<AsyncCounts> {
  static override view = AsyncCounts;
}

async function followWorlds<P extends Projection>(projection: P, worlds: WorldsApplication): Promise<P> {
  projection.follow(worlds.name, worlds.recorder, worlds.mapper);
  return projection;
}

describe.each([
  ['SQLite', sqliteStore],
  ['PostgreSQL', postgresStore],
] as const)('views on %s', (_name, makeStore) => {
  const store = makeStore();
  const opened: Array<{ close(): Promise<void> }> = [];
  let worlds: WorldsApplication;
  beforeEach(async () => {
    await store.setUp();
    worlds = new WorldsApplication({ env: store.env() });
    opened.push(worlds);
  });
  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((app) => app.close()));
    await store.tearDown();
  });
  const open = <P extends Projection>(projection: P) => {
    opened.push(projection);
    return followWorlds(projection, worlds);
  };

  it('stops at the notification its view fails on, keeps what came before it, skips it, and rebuilds without it', async () => {
    const id = await worlds.createWorld();
    for (const what of ['a', 'b', 'a', 'poison', 'c', 'a']) await worlds.makeItSo(id, what);
    const poison = 5; // created is 1, then a, b, a, poison
    const picky = await open(new Picky({ env: store.env() }));

    const failure = await picky.pullAndProcess('WorldsApplication').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PolicyError);
    expect(failure).toMatchObject({ notificationId: poison, upstreamName: 'WorldsApplication', message: expect.stringContaining('cannot stand poison') });
    expect(await picky.view.counts()).toEqual({ a: 2, b: 1 }); // the same batch, up to the poison
    expect(await picky.trackingPosition('WorldsApplication')).toBe(poison - 1);

    expect(await picky.skipNext('WorldsApplication', 'poison cannot be counted', { notificationId: poison })).toBe(poison);
    expect(await picky.pullAndProcess('WorldsApplication')).toBe(2);
    expect(await picky.view.counts()).toEqual({ a: 3, b: 1, c: 1 });
    const [skip] = await picky.recorder.selectNotifications(1, 10);
    expect(picky.mapper.toDomainEvent(skip)).toBeInstanceOf(SkippedNotification.Recorded);

    const report = await picky.rebuild();
    expect(report).toMatchObject({ generation: 2, applied: 7 });
    expect(await picky.view.counts()).toEqual({ a: 3, b: 1, c: 1 });
  });

  it('refuses to process with a view class of another version than the live one, until rebuilt', async () => {
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'a');
    const v1 = await open(new Picky({ env: store.env() }));
    expect(await v1.pullAndProcess('WorldsApplication')).toBe(2);
    await v1.close();

    const v2 = await open(new PickyV2({ env: store.env() }));
    await worlds.makeItSo(id, 'b');
    await expect(v2.pullAndProcess('WorldsApplication')).rejects.toThrow(
      new ConfigurationError('the live view of Picky (generation 1) was built by version 1 of its view, and PickyCountsV2 is version 2: rebuild the projection'),
    );
    expect(await v2.rebuild()).toMatchObject({ generation: 2, retired: 1 });
    expect(await v2.liveGeneration()).toEqual({ generation: 2, version: 2 });
    expect(await v2.view.counts()).toEqual({ a: 1, b: 1 });
    expect(await v2.pullAndProcess('WorldsApplication')).toBe(0);
  });

  if (store.name === 'sqlite') {
    it('refuses a view whose update is async on SQLite, keeping nothing of it', async () => {
      const id = await worlds.createWorld();
      await worlds.makeItSo(id, 'a');
      const projection = await open(new AsyncPicky({ env: store.env() }));
      await expect(projection.pullAndProcess('WorldsApplication')).rejects.toThrow(/runs inside a synchronous transaction .*make it synchronous/);
      expect(await projection.trackingPosition('WorldsApplication')).toBe(0);
      expect(await projection.view.counts()).toEqual({});
    });
  } else {
    it('lets a view be async on PostgreSQL', async () => {
      const id = await worlds.createWorld();
      await worlds.makeItSo(id, 'a');
      const projection = await open(new AsyncPicky({ env: store.env() }));
      expect(await projection.pullAndProcess('WorldsApplication')).toBe(2);
      expect(await projection.view.counts()).toEqual({ a: 1 });
    });
  }

  it('refuses a second projection that would keep its view in tables another projection keeps', async () => {
    class OtherPicky extends Projection<PickyCounts> {
      static override view = PickyCounts;
    }
    const first = await open(new Picky({ env: store.env() }));
    await first.ready();
    const second = await open(new OtherPicky({ env: store.env() }));
    await expect(second.ready()).rejects.toThrow(
      new ConfigurationError('projection OtherPicky cannot keep its view PickyCounts here: table picky_counts is the view of projection Picky (give the view other table names)'),
    );
    await worlds.makeItSo(await worlds.createWorld(), 'a');
    await expect(second.pullAndProcess('WorldsApplication')).rejects.toThrow('table picky_counts is the view of projection Picky');
    expect(await first.pullAndProcess('WorldsApplication')).toBe(2);
    expect(await first.view.counts()).toEqual({ a: 1 });
  });

  it('follows several applications, and a rebuild reads all of their logs', async () => {
    class OtherWorlds extends WorldsApplication {
      static override applicationName = 'OtherWorlds';
    }
    const others = new OtherWorlds({ env: store.env() });
    opened.push(others);
    const picky = await open(new Picky({ env: store.env() }));
    picky.follow(others.name, others.recorder, others.mapper);
    const here = await worlds.createWorld();
    const there = await others.createWorld();
    for (const what of ['a', 'b']) await worlds.makeItSo(here, what);
    for (const what of ['a', 'c', 'c']) await others.makeItSo(there, what);
    expect(await picky.pullAndProcess('WorldsApplication')).toBe(3);
    expect(await picky.pullAndProcess('OtherWorlds')).toBe(4);
    expect(await picky.view.counts()).toEqual({ a: 2, b: 1, c: 2 });
    expect(await picky.rebuild()).toMatchObject({ generation: 2, applied: 7 });
    expect(await picky.view.counts()).toEqual({ a: 2, b: 1, c: 2 });
    expect([await picky.trackingPosition('WorldsApplication'), await picky.trackingPosition('OtherWorlds')]).toEqual([3, 4]);
  });

  it('refuses a memory view on a SQL store', () => {
    class Memo extends MemoryView<{ n: number }> {
      initialState() {
        return { n: 0 };
      }
      update(): void {}
    }
    class MemoProjection extends Projection<Memo> {
      static override view = Memo;
    }
    expect(() => new MemoProjection({ env: store.env() })).toThrow(`projection MemoProjection keeps a memory view (Memo), but its store is ${store.name}`);
  });
});

describe('view declarations', () => {
  it('refuses a SQL view on the memory store, a projection without a view, and bad table names', () => {
    const env = memoryStore().env();
    expect(() => new Picky({ env })).toThrow('projection Picky keeps a SQL view (PickyCounts), but its store is memory: set PERSISTENCE to sqlite or postgres, or make the view a MemoryView');
    class Bare extends Projection {}
    expect(() => new Bare({ env })).toThrow('projection Bare needs a static view: a class extending SqlView or MemoryView');
    class BadNames extends PickyCounts {
      static override tables = { 'Bad-Name': 'x TEXT' };
    }
    class BadProjection extends Projection {
      static override view = BadNames;
    }
    expect(() => new BadProjection({ env: { PERSISTENCE: 'sqlite', SQLITE_DBNAME: ':memory:' } })).toThrow(
      "view BadNames of BadProjection: table name 'Bad-Name' must be lower case letters, digits and single underscores (at most 50)",
    );
  });
});
