// End-to-end benchmark of the seed system (WorldsApplication → Counters): commands per second from
// the first command until Counters has processed the last, per runner and store, beside the raw
// one-row-per-transaction insert rate of the same store measured in the same run.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  ActorRunner,
  MultiprocessRunner,
  MultiThreadedRunner,
  Runner,
  SingleThreadedRunner,
  SteppingMultiThreadedRunner,
  SteppingSingleThreadedRunner,
  System,
} from '../src';
import { Counter, Counters } from '../examples/worlds/counters';
import { WorldsApplication } from '../examples/worlds/domain';
import { events, postgresBare, sqliteBare, type BareDriver } from './core';
import { createSchema, dropSchema, fmt, POSTGRES_URL, rate, table, temporaryDirectory, withSchema } from './support';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 10_000);
const WORLDS = 100;
const THINGS = Array.from({ length: 10 }, (_, i) => `thing-${i}`);
const system = new System({ pipes: [[WorldsApplication, Counters]] });

export type RunnerKind =
  | 'single-threaded'
  | 'multi-threaded'
  | 'stepping single'
  | 'stepping multi'
  | 'actor'
  | 'multiprocess'
  | 'multiprocess thread'
  | 'actor, process slaves';
const ALL_RUNNERS: RunnerKind[] = [
  'single-threaded',
  'multi-threaded',
  'stepping single',
  'stepping multi',
  'actor',
  'multiprocess',
  'multiprocess thread',
  'actor, process slaves',
];
/** Runners whose workers are other processes or threads: they cannot run over memory. */
const SHARED_STORE_RUNNERS: RunnerKind[] = ['multiprocess', 'multiprocess thread', 'actor, process slaves'];
/** Where the MultiprocessRunner's workers load this benchmark's system from (the same applications and pipes). */
export const SYSTEM_MODULE = { path: join(__dirname, '..', 'examples', 'worlds', 'counters.ts') };
const ALL_STORES = ['memory', 'sqlite', 'postgres'] as const;

/** BENCH_RUNNERS / BENCH_STORES (comma-separated) narrow the run to some runners or stores. */
function chosen<T extends string>(variable: string, all: readonly T[]): T[] {
  const value = process.env[variable];
  if (value === undefined || value.trim() === '') return [...all];
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!all.includes(name as T)) throw new Error(`${variable}: unknown '${name}', choose from ${all.join(', ')}`);
  }
  return names as T[];
}
const RUNNERS = chosen('BENCH_RUNNERS', ALL_RUNNERS);
const STORES = chosen('BENCH_STORES', ALL_STORES);

export function makeRunner(kind: RunnerKind, env: Record<string, string>): Runner {
  switch (kind) {
    case 'single-threaded':
      return new SingleThreadedRunner(system, { env });
    case 'multi-threaded':
      return new MultiThreadedRunner(system, { env });
    case 'stepping single':
      return new SteppingSingleThreadedRunner(system, { env, tickIntervalMs: 1 });
    case 'stepping multi':
      return new SteppingMultiThreadedRunner(system, { env, tickIntervalMs: 1 });
    case 'actor':
      return new ActorRunner(system, { env });
    case 'multiprocess':
      return new MultiprocessRunner(system, { env, systemModule: SYSTEM_MODULE });
    case 'multiprocess thread':
      return new MultiprocessRunner(system, { env, systemModule: SYSTEM_MODULE, isolation: 'thread' });
    case 'actor, process slaves':
      return new ActorRunner(system, { env, slaves: 'process', systemModule: SYSTEM_MODULE });
  }
}

interface Result {
  commandsPerSecond: number;
  latency?: { median: number; p99: number };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/**
 * Runs COMMANDS awaited commands, in `streams` concurrent streams (default one: each command after
 * the last), and waits until Counters has processed them all.
 */
export async function endToEnd(kind: RunnerKind, env: Record<string, string>, streams = 1): Promise<Result> {
  const runner = makeRunner(kind, env);
  await runner.start();
  try {
    const worlds = runner.get(WorldsApplication);
    const counters = runner.get(Counters);
    const ids: string[] = [];
    for (let i = 0; i < WORLDS; i++) ids.push(await worlds.createWorld());
    if (!(runner instanceof SingleThreadedRunner)) await (runner as MultiThreadedRunner).waitUntilIdle(600_000);

    // The i-th Incremented that Counters records answers the i-th command (one worlds writer, in order).
    const processedAt: number[] = [];
    const stopListening = counters.onRecorded((recordings) => {
      const now = performance.now();
      for (const recording of recordings) if (recording.domainEvent instanceof Counter.Incremented) processedAt.push(now);
    });
    const returnedAt = new Array<number>(COMMANDS);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: streams }, async (_, stream) => {
        for (let i = stream; i < COMMANDS; i += streams) {
          await worlds.makeItSo(ids[i % WORLDS], THINGS[i % THINGS.length]);
          returnedAt[i] = performance.now();
        }
      }),
    );
    if (!(runner instanceof SingleThreadedRunner)) await (runner as MultiThreadedRunner).waitUntilIdle(600_000);
    const seconds = (performance.now() - started) / 1000;
    stopListening();
    for (const thing of THINGS) {
      const count = await counters.getCount(thing);
      if (count !== COMMANDS / THINGS.length) throw new Error(`${kind}: count of ${thing} is ${count}, expected ${COMMANDS / THINGS.length}`);
    }
    const delays = returnedAt.map((at, i) => Math.max(0, (processedAt[i] ?? at) - at) * 1000).sort((a, b) => a - b);
    return {
      commandsPerSecond: COMMANDS / seconds,
      // Counters records in the workers of the multiprocess runner, where this process cannot listen.
      latency:
        kind === 'single-threaded' || SHARED_STORE_RUNNERS.includes(kind) || streams > 1
          ? undefined
          : { median: percentile(delays, 0.5), p99: percentile(delays, 0.99) },
    };
  } finally {
    await runner.stop();
  }
}

/** The raw limit: one 200-byte row per transaction, through the bare driver, same durability settings. */
async function rawSqliteRate(path: string): Promise<number> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE raw (id INTEGER PRIMARY KEY, originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, UNIQUE (originator_id, originator_version))');
  const insert = db.prepare('INSERT INTO raw (originator_id, originator_version, topic, state) VALUES (?, 1, ?, ?)');
  const write = db.transaction((i: number) => insert.run(`agg-${i}`, 'Raw', Buffer.alloc(200, 1)));
  const count = 20_000;
  const started = performance.now();
  for (let i = 0; i < count; i++) write.immediate(i);
  const rate = (count / (performance.now() - started)) * 1000;
  db.close();
  return rate;
}

async function rawPostgresRate(schema: string): Promise<number> {
  const client = new Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`CREATE TABLE "${schema}".raw (id BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, originator_id TEXT, originator_version BIGINT, topic TEXT, state BYTEA, PRIMARY KEY (originator_id, originator_version))`);
  const count = 2_000;
  const state = Buffer.alloc(200, 1);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await client.query(`INSERT INTO "${schema}".raw (originator_id, originator_version, topic, state) VALUES ($1, 1, 'Raw', $2)`, [`agg-${i}`, state]);
  }
  const rate = (count / (performance.now() - started)) * 1000;
  await client.end();
  return rate;
}

/**
 * Cost per command as the logs grow: the same commands against a log of 10,000 events, then of
 * 1,000,000, preloaded straight into WorldsApplication's log (Counters starts at its end).
 */
async function growth(env: Record<string, string>, preload: number): Promise<number> {
  const app = new WorldsApplication({ env });
  const seedWorld = await app.createWorld();
  await app.makeItSo(seedWorld, 'preloaded');
  const template = (await app.recorder.selectNotifications(2, 1))[0]; // a SomethingHappened
  const batch = 1000;
  for (let done = 2; done < preload; done += batch) {
    const events = Array.from({ length: Math.min(batch, preload - done) }, (_, i) => ({
      originatorId: `preloaded-${done + i}`,
      originatorVersion: 1,
      topic: template.topic,
      state: template.state,
    }));
    await app.recorder.insertEvents(events);
  }
  const head = await app.recorder.maxNotificationId();
  await app.close();
  const counters = new Counters({ env });
  await counters.recorder.insertEvents([], { tracking: { applicationName: 'WorldsApplication', notificationId: head, previousNotificationId: 0 } });
  await counters.close();
  return (await endToEnd('multi-threaded', env)).commandsPerSecond;
}

interface StoreRun {
  name: string;
  /** The raw limit: one row per transaction into a table of the plainest shape (two b-trees). */
  raw?: number;
  /** The core benchmark's bare driver, one row per transaction into a table of our shape and indexes. */
  bare?: number;
}

/** The core benchmark's bare-driver rate of one-row transactions, measured here in the same run. */
async function bareOneRowRate(driver: BareDriver, count: number): Promise<number> {
  const rows = events(count);
  try {
    return await rate(count, (index) => driver.insertOne(rows[index]));
  } finally {
    await driver.close();
  }
}

/** The concurrent runners, measured again where each application is the only writer of its aggregates. */
const SOLE_WRITER_RUNNERS: RunnerKind[] = ['multi-threaded', 'stepping multi', 'actor'];
const SOLE_WRITER = { AGGREGATE_CACHE_FASTFORWARD: 'false' };

export async function systemBenchmark(): Promise<void> {
  await warmUp();
  const rows: string[][] = [];
  const latencies: string[][] = [];
  const percent = (part: number, whole: number | undefined) => (whole ? `${((part / whole) * 100).toFixed(0)}%` : '');
  const record = (label: string, store: StoreRun, result: Result) => {
    rows.push([
      label,
      `${fmt(result.commandsPerSecond)} cmd/s`,
      store.raw ? `${fmt(store.raw)} rows/s` : '',
      percent(result.commandsPerSecond, store.raw),
      store.bare ? `${fmt(store.bare)} rows/s` : '',
      percent(result.commandsPerSecond, store.bare),
    ]);
    if (result.latency) latencies.push([label, `${fmt(result.latency.median / 1000, 2)} ms`, `${fmt(result.latency.p99 / 1000, 2)} ms`]);
  };
  /** Every chosen runner on the store, then the concurrent ones with the sole-writer setting. */
  const runAll = async (store: StoreRun, withFreshStore: (body: (env: Record<string, string>) => Promise<void>) => Promise<void>) => {
    for (const kind of RUNNERS.filter((runner) => store.name !== 'memory' || !SHARED_STORE_RUNNERS.includes(runner))) {
      await withFreshStore(async (env) => record(`${store.name}, ${kind}`, store, await endToEnd(kind, env)));
    }
    if (store.raw === undefined && store.bare === undefined) return;
    for (const kind of RUNNERS.filter((runner) => SOLE_WRITER_RUNNERS.includes(runner))) {
      await withFreshStore(async (env) => record(`${store.name}, ${kind}, sole writer`, store, await endToEnd(kind, { ...env, ...SOLE_WRITER })));
    }
  };

  if (STORES.includes('memory')) await runAll({ name: 'memory' }, (body) => body({ PERSISTENCE: 'memory' }));

  if (STORES.includes('sqlite')) {
    const directory = temporaryDirectory();
    try {
      const raw = await rawSqliteRate(join(directory.path, 'raw.sqlite'));
      const bare = await bareOneRowRate(sqliteBare(join(directory.path, 'bare.sqlite')), 20_000);
      let n = 0;
      await runAll({ name: 'sqlite', raw, bare }, (body) => body({ PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(directory.path, `e2e-${++n}.sqlite`) }));
    } finally {
      directory.remove();
    }
  }

  if (STORES.includes('postgres')) {
    const raw = await withSchema(rawPostgresRate);
    const bare = await withSchema(async (schema) => bareOneRowRate(await postgresBare(schema), 2_000));
    await runAll({ name: 'postgres', raw, bare }, (body) => withSchema((schema) => body({ PERSISTENCE: 'postgres', POSTGRES_URL, POSTGRES_SCHEMA: schema })));
  }

  console.log(`\nEnd to end: ${fmt(COMMANDS)} commands (each awaited) over ${WORLDS} worlds and ${THINGS.length} things, until Counters has processed the last`);
  console.log(`('sole writer': AGGREGATE_CACHE_FASTFORWARD=false, for applications that alone write their aggregates)\n`);
  console.log('raw: one 200-byte row per transaction through the bare driver, into a table with a primary key and one unique index;');
  console.log('core bare: the same through the core benchmark\'s bare driver, into a table of our shape and indexes\n');
  table(['store, runner', 'throughput', 'raw (1 row/tx)', 'ratio', 'core bare (1 row/tx)', 'ratio'], rows);
  console.log('\nLatency from a command’s return to Counters having recorded its result, under that load\n');
  table(['store, runner', 'median', '99th percentile'], latencies);
}

/** A run of every runner before measuring, so that the first measured ones do not pay for JIT warm-up. */
async function warmUp(): Promise<void> {
  for (const kind of ALL_RUNNERS.filter((runner) => !SHARED_STORE_RUNNERS.includes(runner))) await endToEnd(kind, { PERSISTENCE: 'memory' });
}

export async function growthBenchmark(): Promise<void> {
  await warmUp();
  const schemas: string[] = [];
  const rows: string[][] = [];
  const sizes = [10_000, 1_000_000];
  const measure = async (name: string, fresh: () => Promise<Record<string, string>>) => {
    const rates: number[] = [];
    for (const size of sizes) rates.push(await growth(await fresh(), size));
    rows.push([name, ...rates.map((rate) => `${fmt(rate)} cmd/s`), `${((rates[1] / rates[0]) * 100).toFixed(0)}%`]);
  };
  if (STORES.includes('memory')) await measure('memory, multi-threaded', async () => ({ PERSISTENCE: 'memory' }));
  if (STORES.includes('sqlite')) {
    const directory = temporaryDirectory();
    try {
      let n = 0;
      await measure('sqlite, multi-threaded', async () => ({ PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(directory.path, `growth-${++n}.sqlite`) }));
    } finally {
      directory.remove();
    }
  }
  if (STORES.includes('postgres')) {
    await measure('postgres, multi-threaded', async () => {
      const schema = await createSchema();
      schemas.push(schema);
      return { PERSISTENCE: 'postgres', POSTGRES_URL, POSTGRES_SCHEMA: schema };
    }).finally(() => Promise.all(schemas.map(dropSchema)));
  }
  console.log('\nCost per command as the log grows (WorldsApplication log preloaded)\n');
  table(['store, runner', `log of ${fmt(sizes[0])}`, `log of ${fmt(sizes[1])}`, 'ratio'], rows);
}
