// Core benchmark: per store, the recorder and repository beside the bare driver, in one run.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Pool } from 'pg';
import {
  AggregateCache,
  ApplicationRecorder,
  InfrastructureFactory,
  MemoryInfrastructureFactory,
  PostgresInfrastructureFactory,
  Repository,
  SqliteInfrastructureFactory,
  StoredEvent,
} from '../src';
import { World, WorldsApplication } from '../examples/worlds/domain';
import { fmt, latency, payload, POSTGRES_URL, rate, ratio, table, temporaryDirectory, withSchema } from './support';

/** The same operations done with the driver alone: the ceiling our layer is measured against. */
interface BareDriver {
  insertOne(event: StoredEvent): Promise<void>;
  insertMany(events: StoredEvent[]): Promise<void>;
  /** Reads up to `limit` rows after `afterId`; returns the last id read. */
  readAfter(afterId: number, limit: number): Promise<number>;
  selectAggregate(originatorId: string): Promise<number>;
  close(): Promise<void>;
}

interface Store {
  name: string;
  env: Record<string, string>;
  factory(applicationName: string): InfrastructureFactory;
  bare?: BareDriver;
  counts: { one: number; hundred: number; gets: number };
}

const STATE = payload(200);
let serial = 0;
const events = (count: number): StoredEvent[] =>
  Array.from({ length: count }, () => ({ originatorId: `agg-${++serial}`, originatorVersion: 1, topic: 'Bench.Event', state: STATE }));

function sqliteBare(path: string): BareDriver {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE bare_events (id INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,
    topic TEXT NOT NULL, state BLOB NOT NULL, pipeline_id INTEGER NOT NULL DEFAULT 0, UNIQUE (originator_id, originator_version));
    CREATE INDEX bare_events_pipeline ON bare_events (pipeline_id, id);`);
  const insert = db.prepare('INSERT INTO bare_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)');
  const insertAll = db.transaction((rows: StoredEvent[]) => {
    for (const row of rows) insert.run(row.originatorId, row.originatorVersion, row.topic, row.state);
  });
  const read = db.prepare('SELECT id, originator_id, originator_version, topic, state FROM bare_events WHERE id > ? ORDER BY id LIMIT ?');
  const aggregate = db.prepare('SELECT originator_version, topic, state FROM bare_events WHERE originator_id = ? ORDER BY originator_version');
  return {
    insertOne: async (event) => insertAll.immediate([event]),
    insertMany: async (rows) => insertAll.immediate(rows),
    readAfter: async (afterId, limit) => {
      const rows = read.all(afterId, limit) as { id: number }[];
      return rows.length ? rows[rows.length - 1].id : afterId;
    },
    selectAggregate: async (id) => aggregate.all(id).length,
    close: async () => void db.close(),
  };
}

async function postgresBare(schema: string): Promise<BareDriver> {
  const pool = new Pool({ connectionString: POSTGRES_URL, max: 2 });
  const table = `"${schema}".bare_events`;
  await pool.query(`CREATE TABLE ${table} (id BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    pipeline_id INTEGER NOT NULL DEFAULT 0, originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, topic TEXT NOT NULL,
    state BYTEA NOT NULL, PRIMARY KEY (originator_id, originator_version))`);
  await pool.query(`CREATE INDEX ON ${table} (txid, id)`);
  return {
    insertOne: async (e) => {
      await pool.query(`INSERT INTO ${table} (originator_id, originator_version, topic, state) VALUES ($1, $2, $3, $4)`, [
        e.originatorId, e.originatorVersion, e.topic, e.state,
      ]);
    },
    insertMany: async (rows) => {
      await pool.query(
        `INSERT INTO ${table} (originator_id, originator_version, topic, state)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[])`,
        [rows.map((r) => r.originatorId), rows.map((r) => r.originatorVersion), rows.map((r) => r.topic), rows.map((r) => r.state)],
      );
    },
    readAfter: async (afterId, limit) => {
      const { rows } = await pool.query(`SELECT id, originator_id, originator_version, topic, state FROM ${table} WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit]);
      return rows.length ? Number(rows[rows.length - 1].id) : afterId;
    },
    selectAggregate: async (id) =>
      (await pool.query(`SELECT originator_version, topic, state FROM ${table} WHERE originator_id = $1 ORDER BY originator_version`, [id])).rowCount ?? 0,
    close: () => pool.end(),
  };
}

async function readAll(read: (afterId: number) => Promise<number>): Promise<number> {
  let position = 0;
  for (;;) {
    const next = await read(position);
    if (next === position) return position;
    position = next;
  }
}

async function benchStore(store: Store): Promise<string[][]> {
  const rows: string[][] = [];
  const factory = store.factory('bench');
  const recorder: ApplicationRecorder = factory.applicationRecorder();
  const { one, hundred, gets } = store.counts;
  const add = (what: string, ours: number, bare: number | undefined, unit: string, digits = 0) =>
    rows.push([`${store.name}: ${what}`, `${fmt(ours, digits)} ${unit}`, bare === undefined ? '' : `${fmt(bare, digits)} ${unit}`, bare === undefined ? '' : ratio(ours, bare)]);

  // Warm up both paths (statement caches, JIT, table creation).
  await recorder.insertEvents(events(1));
  await store.bare?.insertOne(events(1)[0]);

  const oneEvents = events(one);
  const oursOne = await rate(one, (i) => recorder.insertEvents([oneEvents[i]]));
  const bareOneEvents = events(one);
  const bareOne = store.bare ? await rate(one, (i) => store.bare!.insertOne(bareOneEvents[i])) : undefined;
  add('append, 1 event per write', oursOne, bareOne, 'events/s');

  const batches = Array.from({ length: hundred }, () => events(100));
  const oursHundred = (await rate(hundred, (i) => recorder.insertEvents(batches[i]))) * 100;
  const bareBatches = Array.from({ length: hundred }, () => events(100));
  const bareHundred = store.bare ? (await rate(hundred, (i) => store.bare!.insertMany(bareBatches[i]))) * 100 : undefined;
  add('append, 100 events per write', oursHundred, bareHundred, 'events/s');

  const total = await recorder.maxNotificationId();
  let started = performance.now();
  let read = 0;
  await readAll(async (afterId) => {
    const page = await recorder.selectNotifications(afterId, 1000, { inclusiveOfStart: false });
    read += page.length;
    return page.length ? page[page.length - 1].id : afterId;
  });
  const oursRead = (read / (performance.now() - started)) * 1000;
  let bareRead: number | undefined;
  if (store.bare) {
    started = performance.now();
    const last = await readAll((afterId) => store.bare!.readAfter(afterId, 1000));
    bareRead = (last / (performance.now() - started)) * 1000;
  }
  add(`read notifications (${fmt(total)} in pages of 1,000)`, oursRead, bareRead, 'rows/s');
  await factory.close();

  for (const size of [10, 1000]) {
    const env = { ...store.env, IS_SNAPSHOTTING_ENABLED: 'true', AGGREGATE_CACHE_MAXSIZE: '0' };
    const app = new WorldsApplication({ env });
    const id = await app.createWorld();
    const world = await app.repository.get<World>(id);
    for (let i = 1; i < size; i++) world.makeItSo(`thing-${i % 10}`);
    await app.save(world);
    const replayed = await latency(gets, () => app.repository.get(id));
    const cachingRepository = new Repository(app.events, undefined, new AggregateCache(100));
    await cachingRepository.get(id);
    const cached = await latency(gets, () => cachingRepository.get(id));
    await app.takeSnapshot(id);
    const fromSnapshot = await latency(gets, () => app.repository.get(id));
    let bare: { median: number } | undefined;
    if (store.bare) {
      const bareId = `bare-${size}`;
      await store.bare.insertMany(Array.from({ length: size }, (_, v) => ({ originatorId: bareId, originatorVersion: v + 1, topic: 'World.SomethingHappened', state: STATE })));
      bare = await latency(gets, () => store.bare!.selectAggregate(bareId));
    }
    const row = (what: string, result: { median: number }, withBare: boolean) =>
      rows.push([`${store.name}: get, ${size} events, ${what}`, `${fmt(result.median, 1)} µs`, withBare && bare ? `${fmt(bare.median, 1)} µs` : '', withBare && bare ? `×${(result.median / bare.median).toFixed(1)}` : '']);
    row('replayed', replayed, true);
    row('from snapshot', fromSnapshot, false);
    row('cached, fast-forwarded', cached, false);
    await app.close();
  }
  await store.bare?.close();
  return rows;
}

export async function coreBenchmark(): Promise<void> {
  const directory = temporaryDirectory();
  const rows: string[][] = [];
  try {
    rows.push(
      ...(await benchStore({
        name: 'memory',
        env: { PERSISTENCE: 'memory' },
        factory: () => new MemoryInfrastructureFactory(),
        counts: { one: 1_000_000, hundred: 10_000, gets: 2_000 },
      })),
    );
    const sqlitePath = join(directory.path, 'bench.sqlite');
    rows.push(
      ...(await benchStore({
        name: 'sqlite',
        env: { PERSISTENCE: 'sqlite', SQLITE_DBNAME: sqlitePath },
        factory: (applicationName) => new SqliteInfrastructureFactory({ applicationName, dbName: sqlitePath }),
        bare: sqliteBare(join(directory.path, 'bare.sqlite')),
        counts: { one: 20_000, hundred: 400, gets: 500 },
      })),
    );
    await withSchema(async (schema) => {
      rows.push(
        ...(await benchStore({
          name: 'postgres',
          env: { PERSISTENCE: 'postgres', POSTGRES_URL, POSTGRES_SCHEMA: schema },
          factory: (applicationName) => new PostgresInfrastructureFactory({ applicationName, connectionString: POSTGRES_URL, schema }),
          bare: await postgresBare(schema),
          counts: { one: 3_000, hundred: 200, gets: 300 },
        })),
      );
    });
  } finally {
    directory.remove();
  }
  console.log('\nCore: recorders and repository beside the bare driver (same run, same durability settings)\n');
  table(['operation', 'ours', 'bare driver', 'ours / bare'], rows);
  console.log('\nget latency is the median; "bare" for get is the SELECT of as many rows, without decoding them');
  console.log('or applying them; "replayed" starts from the first event, with the aggregate cache off.');
}
