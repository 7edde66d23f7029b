// Projections (issue 14), on SQLite and PostgreSQL: notifications applied per second by the worlds'
// stats projection catching up with a log, beside followers catching up with the same log (one
// that does nothing with each event, and the seeds' Counters); and a rebuild of the view from a log
// of 1,000,000 events, beside the store's own rate for writes of 100 rows measured in the same run.
// BENCH_PROJECTION_EVENTS (default 20,000) and BENCH_REBUILD_EVENTS (default 1,000,000) set the sizes.
import { join } from 'node:path';
import { Follower, type EnvType, type StoredEvent } from '../src';
import { Counters } from '../examples/worlds/counters';
import { World, WorldsApplication } from '../examples/worlds/domain';
import { WorldStatsProjection } from '../examples/worlds/stats';
import { fmt, POSTGRES_URL, ratio, table, temporaryDirectory, withSchema } from './support';

const EVENTS = Number(process.env.BENCH_PROJECTION_EVENTS ?? 20_000);
const REBUILD_EVENTS = Number(process.env.BENCH_REBUILD_EVENTS ?? 1_000_000);
const WHATS = ['trucks', 'internet', 'dinosaurs', 'dogs', 'cats', 'rain', 'sun'];

/** Follows and does nothing with each event: what following itself costs (reads, decoding, tracking). */
class NothingDone extends Follower {}

/** Records `count` events of 100 worlds, a thousand events a write. */
async function populate(worlds: WorldsApplication, count: number): Promise<void> {
  const all = Array.from({ length: 100 }, () => World.create());
  await worlds.save(...all);
  let recorded = all.length;
  for (let round = 0; recorded < count; round++) {
    const perWorld = Math.min(10, Math.ceil((count - recorded) / all.length));
    const batch: World[] = [];
    for (const world of all) {
      if (recorded >= count) break;
      for (let index = 0; index < perWorld && recorded < count; index++, recorded++) world.makeItSo(WHATS[(round + index) % WHATS.length]);
      batch.push(world);
    }
    await worlds.save(...batch);
  }
}

/** Notifications per second of `follower` catching up with the worlds' log from the start. */
async function catchUpRate(follower: Follower, worlds: WorldsApplication, batchSize?: number): Promise<number> {
  if (!follower.upstreamNames.includes(worlds.name)) follower.follow(worlds.name, worlds.recorder, worlds.mapper);
  const started = performance.now();
  const processed = await follower.pullAndProcess(worlds.name, { batchSize });
  return (processed / (performance.now() - started)) * 1000;
}

/** Rows per second of insertEvents writing 100 rows a call, through an aggregate recorder of the store. */
async function hundredRowRate(env: EnvType, calls: number): Promise<number> {
  const app = new WorldsApplication({ env: { ...env, WORLDSAPPLICATION_IS_SNAPSHOTTING_ENABLED: 'y' } });
  try {
    const recorder = app.factory.aggregateRecorder('snapshots');
    const state = Buffer.from(JSON.stringify({ what: 'trucks' }));
    const write = (call: number): StoredEvent[] =>
      Array.from({ length: 100 }, (_, index) => ({ originatorId: `${call}-${index}`, originatorVersion: 1, topic: 'bench:Row', state }));
    await recorder.insertEvents(write(-1));
    const started = performance.now();
    for (let call = 0; call < calls; call++) await recorder.insertEvents(write(call));
    return ((calls * 100) / (performance.now() - started)) * 1000;
  } finally {
    await app.close();
  }
}

async function measure(store: string, env: EnvType): Promise<string[][]> {
  const worlds = new WorldsApplication({ env });
  const apps: Array<{ close(): Promise<void> }> = [worlds];
  try {
    await populate(worlds, EVENTS);
    const nothing = new NothingDone({ env });
    const counters = new Counters({ env });
    const projection = new WorldStatsProjection({ env });
    apps.push(nothing, counters, projection);
    const check = async () => {
      const counted = (await projection.view.top(100)).reduce((sum, row) => sum + row.n, 0);
      if (counted !== EVENTS - 100) throw new Error(`the projection counted ${counted} things, not ${EVENTS - 100}`);
    };
    const rows = [
      [`${store}: follower doing nothing (batches of 100)`, fmt(await catchUpRate(nothing, worlds))],
      [`${store}: Counters follower (batches of 100)`, fmt(await catchUpRate(counters, worlds))],
      [`${store}: WorldStats projection (batches of 100)`, fmt(await catchUpRate(projection, worlds))],
    ];
    await check();
    await projection.reset();
    rows.push([`${store}: WorldStats projection (batches of 1000)`, fmt(await catchUpRate(projection, worlds, 1000))]);
    await check();
    return rows;
  } finally {
    await Promise.allSettled(apps.map((app) => app.close()));
  }
}

async function measureRebuild(store: string, env: EnvType): Promise<string[]> {
  const worlds = new WorldsApplication({ env });
  const projection = new WorldStatsProjection({ env });
  try {
    let started = performance.now();
    await populate(worlds, REBUILD_EVENTS);
    const populateRate = (REBUILD_EVENTS / (performance.now() - started)) * 1000;
    projection.follow(worlds.name, worlds.recorder, worlds.mapper);
    const writes = await hundredRowRate(env, 200);
    started = performance.now();
    const report = await projection.rebuild({ batchSize: 1000 });
    const rebuildRate = (report.applied / (performance.now() - started)) * 1000;
    const counted = (await projection.view.top(100)).reduce((sum, row) => sum + row.n, 0);
    if (counted !== REBUILD_EVENTS - 100) throw new Error(`the rebuilt view counted ${counted} things, not ${REBUILD_EVENTS - 100}`);
    return [store, fmt(REBUILD_EVENTS), fmt(populateRate), fmt(writes), fmt(rebuildRate), ratio(rebuildRate, writes)];
  } finally {
    await Promise.allSettled([worlds.close(), projection.close()]);
  }
}

function onStore<T>(store: 'sqlite' | 'postgres', body: (env: EnvType) => Promise<T>): Promise<T> {
  if (store === 'postgres') return withSchema((schema) => body({ PERSISTENCE: 'postgres', POSTGRES_URL, POSTGRES_SCHEMA: schema }));
  const directory = temporaryDirectory();
  return body({ PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(directory.path, 'projection.sqlite') }).finally(() => directory.remove());
}

export async function projectionBenchmark(): Promise<void> {
  console.log(`\n== projections: notifications applied per second, catching up with a log of ${fmt(EVENTS)} events of 100 worlds`);
  const rows: string[][] = [];
  for (const store of ['sqlite', 'postgres'] as const) rows.push(...(await onStore(store, (env) => measure(store, env))));
  table(['what', 'notifications/s'], rows);

  console.log(`\n== rebuilding the WorldStats view from a log of ${fmt(REBUILD_EVENTS)} events (batches of 1000), beside the store's rate for writes of 100 rows`);
  const rebuilds: string[][] = [];
  for (const store of ['sqlite', 'postgres'] as const) rebuilds.push(await onStore(store, (env) => measureRebuild(store, env)));
  table(['store', 'events', 'recorded/s', '100-row writes: rows/s', 'rebuild: events/s', 'rebuild / writes'], rebuilds);
}
