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
import { fmt, latency, payload, POSTGRES_URL, rate, rates, ratio, table, temporaryDirectory, withSchema } from './support';

/**
 * The same operations done with the driver alone: the ceiling our layer is measured against. Its
 * tables have the shape and indexes of ours, it writes the same rows with the same durability
 * settings, learns the ids it wrote (as insertEvents does), and reads the columns a notification
 * carries, in the driver's default row format.
 */
export interface BareDriver {
  insertOne(event: StoredEvent): Promise<unknown>;
  insertMany(events: StoredEvent[]): Promise<unknown>;
  /** Reads up to `limit` rows after `afterId`; returns how many and the last id read. */
  readAfter(afterId: number, limit: number): Promise<{ count: number; last: number }>;
  selectAggregate(originatorId: string): Promise<number>;
  close(): Promise<void>;
}

interface Store {
  name: string;
  env: Record<string, string>;
  factory(applicationName: string): InfrastructureFactory;
  bare?: BareDriver;
  /** Operations per figure, and how many of them run back to back before switching to the other side. */
  counts: { one: number; hundred: number; saves: number; gets: number; block: number };
}

const STATE = payload(200);
let serial = 0;
export const events = (count: number): StoredEvent[] =>
  Array.from({ length: count }, () => ({ originatorId: `agg-${++serial}`, originatorVersion: 1, topic: 'Bench.Event', state: STATE }));

export function sqliteBare(path: string): BareDriver {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE bare_events (id INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,
    topic TEXT NOT NULL, state BLOB NOT NULL, pipeline_id INTEGER NOT NULL DEFAULT 0, UNIQUE (originator_id, originator_version));
    CREATE INDEX bare_events_pipeline ON bare_events (pipeline_id, id);`);
  const insert = db.prepare('INSERT INTO bare_events (originator_id, originator_version, topic, state, pipeline_id) VALUES (?, ?, ?, ?, 0)');
  const insertAll = db.transaction((rows: StoredEvent[]) => rows.map((row) => insert.run(row.originatorId, row.originatorVersion, row.topic, row.state).lastInsertRowid));
  const read = db.prepare('SELECT id, originator_id, originator_version, topic, state, pipeline_id FROM bare_events WHERE id > ? ORDER BY id LIMIT ?');
  const aggregate = db.prepare('SELECT originator_id, originator_version, topic, state FROM bare_events WHERE originator_id = ? ORDER BY originator_version');
  return {
    insertOne: async (event) => insertAll.immediate([event]),
    insertMany: async (rows) => insertAll.immediate(rows),
    readAfter: async (afterId, limit) => {
      const rows = read.all(afterId, limit) as { id: number }[];
      return { count: rows.length, last: rows.length ? rows[rows.length - 1].id : afterId };
    },
    selectAggregate: async (id) => aggregate.all(id).length,
    close: async () => void db.close(),
  };
}

export async function postgresBare(schema: string): Promise<BareDriver> {
  const pool = new Pool({ connectionString: POSTGRES_URL, max: 2 });
  const table = `"${schema}".bare_events`;
  await pool.query(`CREATE TABLE ${table} (id BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    pipeline_id INTEGER NOT NULL DEFAULT 0, originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, topic TEXT NOT NULL,
    state BYTEA NOT NULL, PRIMARY KEY (originator_id, originator_version))`);
  await pool.query(`CREATE INDEX ON ${table} (txid, id)`);
  await pool.query(`CREATE INDEX ON ${table} (pipeline_id, txid, id)`);
  return {
    insertOne: async (e) => {
      await pool.query(`INSERT INTO ${table} (originator_id, originator_version, topic, state) VALUES ($1, $2, $3, $4) RETURNING id`, [
        e.originatorId, e.originatorVersion, e.topic, e.state,
      ]);
    },
    insertMany: async (rows) => {
      await pool.query(
        `INSERT INTO ${table} (originator_id, originator_version, topic, state)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[]) RETURNING id`,
        [rows.map((r) => r.originatorId), rows.map((r) => r.originatorVersion), rows.map((r) => r.topic), rows.map((r) => r.state)],
      );
    },
    readAfter: async (afterId, limit) => {
      const { rows } = await pool.query(
        `SELECT id, txid, pipeline_id, originator_id, originator_version, topic, state FROM ${table} WHERE id > $1 ORDER BY id LIMIT $2`,
        [afterId, limit],
      );
      return { count: rows.length, last: rows.length ? Number(rows[rows.length - 1].id) : afterId };
    },
    selectAggregate: async (id) =>
      (await pool.query(`SELECT originator_id, originator_version, topic, state FROM ${table} WHERE originator_id = $1 ORDER BY originator_version`, [id])).rowCount ?? 0,
    close: () => pool.end(),
  };
}

/** Reads the whole log in pages, from the start; returns rows read per second. */
async function readRate(read: (afterId: number) => Promise<{ count: number; last: number }>): Promise<number> {
  const started = performance.now();
  let position = 0;
  let count = 0;
  for (;;) {
    const page = await read(position);
    if (page.count === 0) return (count / (performance.now() - started)) * 1000;
    count += page.count;
    position = page.last;
  }
}

async function benchStore(store: Store): Promise<string[][]> {
  const rows: string[][] = [];
  const factory = store.factory('bench');
  const recorder: ApplicationRecorder = factory.applicationRecorder();
  const { one, hundred, saves, gets, block } = store.counts;
  const bare = store.bare;
  const add = (what: string, ours: number, bareRate: number | undefined, unit: string, digits = 0) =>
    rows.push([`${store.name}: ${what}`, `${fmt(ours, digits)} ${unit}`, bareRate === undefined ? '' : `${fmt(bareRate, digits)} ${unit}`, bareRate === undefined ? '' : ratio(ours, bareRate)]);
  /** Ours and bare side by side (alternating blocks), or ours alone where there is no bare driver. */
  const compare = async (count: number, size: number, ours: (i: number) => unknown, bareBody: ((b: BareDriver, i: number) => unknown) | undefined) => {
    if (bare === undefined || bareBody === undefined) return { ours: await rate(count, ours), bare: undefined };
    return rates(count, size, ours, (i) => bareBody(bare, i));
  };

  // Warm up both paths (statement caches, JIT, table creation).
  await recorder.insertEvents(events(1));
  await bare?.insertOne(events(1)[0]);

  const oneEvents = events(one);
  const bareOneEvents = bare ? events(one) : [];
  const appendOne = await compare(one, block, (i) => recorder.insertEvents([oneEvents[i]]), (b, i) => b.insertOne(bareOneEvents[i]));
  add('append, 1 event per write', appendOne.ours, appendOne.bare, 'events/s');

  const batches = Array.from({ length: hundred }, () => events(100));
  const bareBatches = bare ? Array.from({ length: hundred }, () => events(100)) : [];
  const appendHundred = await compare(hundred, Math.max(1, Math.floor(block / 10)), (i) => recorder.insertEvents(batches[i]), (b, i) => b.insertMany(bareBatches[i]));
  add('append, 100 events per write', appendHundred.ours * 100, appendHundred.bare === undefined ? undefined : appendHundred.bare * 100, 'events/s');

  // Reading: three passes each, alternating, the median of each.
  const total = await recorder.maxNotificationId();
  const oursPass = () =>
    readRate(async (afterId) => {
      const page = await recorder.selectNotifications(afterId, 1000, { inclusiveOfStart: false });
      return { count: page.length, last: page.length ? page[page.length - 1].id : afterId };
    });
  const passes: { ours: number[]; bare: number[] } = { ours: [], bare: [] };
  for (let pass = 0; pass < 3; pass++) {
    passes.ours.push(await oursPass());
    if (bare) passes.bare.push(await readRate((afterId) => bare.readAfter(afterId, 1000)));
  }
  const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  add(`read notifications (${fmt(total)} in pages of 1,000)`, middle(passes.ours), bare ? middle(passes.bare) : undefined, 'rows/s');

  // The application on top: a new aggregate (one event) per save, through the mapper and the recorder.
  const app = new WorldsApplication({ env: store.env });
  await app.save(World.create());
  // The bare driver writes what the saves write: the stored form of a new World's created event
  // (a random UUID for its id, as the application's; random keys cost the indexes more than serial ones).
  const bareSaveEvents = bare ? Array.from({ length: saves }, () => app.mapper.toStoredEvent(World.create().collectEvents()[0])) : [];
  const save = await compare(saves, block, () => app.save(World.create()), (b, i) => b.insertOne(bareSaveEvents[i]));
  add('Application.save, one new aggregate per call', save.ours, save.bare, 'events/s');
  await app.close();

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
    let bareGet: { median: number } | undefined;
    if (store.bare) {
      const bareId = `bare-${size}`;
      await store.bare.insertMany(Array.from({ length: size }, (_, v) => ({ originatorId: bareId, originatorVersion: v + 1, topic: 'World.SomethingHappened', state: STATE })));
      bareGet = await latency(gets, () => store.bare!.selectAggregate(bareId));
    }
    const row = (what: string, result: { median: number }, withBare: boolean) =>
      rows.push([`${store.name}: get, ${size} events, ${what}`, `${fmt(result.median, 1)} µs`, withBare && bareGet ? `${fmt(bareGet.median, 1)} µs` : '', withBare && bareGet ? `×${(result.median / bareGet.median).toFixed(1)}` : '']);
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
        counts: { one: 1_000_000, hundred: 10_000, saves: 200_000, gets: 2_000, block: 1 },
      })),
    );
    const sqlitePath = join(directory.path, 'bench.sqlite');
    rows.push(
      ...(await benchStore({
        name: 'sqlite',
        env: { PERSISTENCE: 'sqlite', SQLITE_DBNAME: sqlitePath },
        factory: (applicationName) => new SqliteInfrastructureFactory({ applicationName, dbName: sqlitePath }),
        bare: sqliteBare(join(directory.path, 'bare.sqlite')),
        counts: { one: 20_000, hundred: 400, saves: 20_000, gets: 500, block: 500 },
      })),
    );
    await withSchema(async (schema) => {
      rows.push(
        ...(await benchStore({
          name: 'postgres',
          env: { PERSISTENCE: 'postgres', POSTGRES_URL, POSTGRES_SCHEMA: schema },
          factory: (applicationName) => new PostgresInfrastructureFactory({ applicationName, connectionString: POSTGRES_URL, schema }),
          bare: await postgresBare(schema),
          counts: { one: 3_000, hundred: 200, saves: 3_000, gets: 300, block: 100 },
        })),
      );
    });
  } finally {
    directory.remove();
  }
  console.log('\nCore: recorders and repository beside the bare driver (same run, same durability settings)\n');
  table(['operation', 'ours', 'bare driver', 'ours / bare'], rows);
  console.log('\nThe bare driver writes and reads tables of the same shape and indexes, the same 200-byte rows, learns the');
  console.log('ids it wrote, and reads the columns a notification carries (as driver rows, not notifications). Appends and');
  console.log('saves alternate between ours and bare in blocks, so both see the same load; reads are the median of 3');
  console.log('passes each. On PostgreSQL, bare reads by id; ours reads the (txid, id) log below the horizon (watermark).');
  console.log('Ours asks the drivers for rows as arrays (better-sqlite3 raw mode, node-postgres rowMode array) and makes');
  console.log('the notifications from them; bare takes the drivers\' default row objects.');
  console.log('Application.save is compared with the bare driver appending the row a save writes (a created event of');
  console.log('a new aggregate with a random UUID): the difference is the domain, the application, the mapper and the');
  console.log('recorder. get latency is the median; "bare" for get is the SELECT of as many rows, without');
  console.log('decoding them or applying them; "replayed" starts from the first event, with the aggregate cache off.');
}
