// The MultiprocessRunner beside the multi-threaded runner, same workload and run: commands per
// second with one and with 8 concurrent command streams on SQLite and PostgreSQL, with the CPU each
// side used; the time from kill -9 of a worker to its replacement processing again; and each
// worker's resident memory.
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MultiprocessRunner, type Runner } from '../src';
import { Counters, system } from '../examples/worlds/counters';
import { WorldsApplication } from '../examples/worlds/domain';
import { fmt, POSTGRES_URL, table, temporaryDirectory, withSchema } from './support';
import { endToEnd, SYSTEM_MODULE, type RunnerKind } from './system';

const KINDS: RunnerKind[] = ['multi-threaded', 'multiprocess', 'multiprocess thread', 'actor, process slaves'];
const KILLS = 5;

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident memory of a process in MB, from /proc. */
function residentMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** CPU seconds of every PostgreSQL server process (its backends serve every runner). */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of require('node:fs').readdirSync('/proc') as string[]) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

async function withStore(store: 'sqlite' | 'postgres', body: (env: Record<string, string>) => Promise<void>): Promise<void> {
  if (store === 'postgres') return withSchema((schema) => body({ PERSISTENCE: 'postgres', POSTGRES_URL, POSTGRES_SCHEMA: schema }));
  const directory = temporaryDirectory();
  try {
    await body({ PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(directory.path, 'mp.sqlite') });
  } finally {
    directory.remove();
  }
}

/** Milliseconds from kill -9 of the worker to a command recorded just after it having been counted. */
async function replacementTimes(env: Record<string, string>): Promise<number[]> {
  const runner = new MultiprocessRunner(system, { env, systemModule: SYSTEM_MODULE });
  await runner.start();
  try {
    const worlds = runner.get(WorldsApplication);
    const counters = runner.get(Counters);
    const id = await worlds.createWorld();
    const times: number[] = [];
    for (let kill = 1; kill <= KILLS; kill++) {
      await runner.waitUntilIdle(60_000).catch(() => undefined); // the previous kill, reported
      const pid = (await runner.status()).pipelines[0].processes[0].pid!;
      const killedAt = performance.now();
      process.kill(pid, 'SIGKILL');
      await worlds.makeItSo(id, 'after-kill');
      while ((await counters.getCount('after-kill')) < kill) await sleep(2);
      times.push(performance.now() - killedAt);
      // Let the restart window forget: each kill is a first failure after progress.
      await sleep(200);
    }
    await runner.waitUntilIdle(60_000).catch(() => undefined); // the last kill, reported
    return times;
  } finally {
    await runner.stop();
  }
}

/** Resident memory of the parent and of each worker once started and after a run of commands. */
async function memory(env: Record<string, string>): Promise<string[][]> {
  const runner: Runner = new MultiprocessRunner(system, { env, systemModule: SYSTEM_MODULE, pipelineIds: [0, 1] });
  await runner.start();
  try {
    const worlds = runner.get(WorldsApplication);
    const id = await worlds.createWorld();
    for (let i = 0; i < 2000; i++) await worlds.makeItSo(id, `thing-${i % 10}`);
    await runner.waitUntilIdle(60_000);
    const rows = [['parent (leaders, queries)', `${fmt(residentMb(process.pid), 1)} MB`]];
    for (const pipeline of (await runner.status()).pipelines) {
      for (const worker of pipeline.processes) rows.push([`worker ${worker.applicationName} (pipeline ${pipeline.pipelineId})`, `${fmt(residentMb(worker.pid!), 1)} MB`]);
    }
    return rows;
  } finally {
    await runner.stop();
  }
}

export async function multiprocessBenchmark(): Promise<void> {
  const rows: string[][] = [];
  for (const store of ['sqlite', 'postgres'] as const) {
    for (const streams of [1, 8]) {
      let base: number | undefined;
      for (const kind of KINDS) {
        await withStore(store, async (env) => {
          const parentBefore = process.cpuUsage();
          const postgresBefore = store === 'postgres' ? postgresCpuSeconds() : 0;
          const started = performance.now();
          const result = await endToEnd(kind, env, streams);
          const seconds = (performance.now() - started) / 1000;
          const parent = process.cpuUsage(parentBefore);
          const parentCpu = (parent.user + parent.system) / 1e6;
          const postgresCpu = store === 'postgres' ? postgresCpuSeconds() - postgresBefore : 0;
          base ??= result.commandsPerSecond;
          rows.push([
            store,
            String(streams),
            kind,
            `${fmt(result.commandsPerSecond)} cmd/s`,
            `${fmt(result.commandsPerSecond / base, 2)}×`,
            `${fmt((parentCpu / seconds) * 100)}%`,
            store === 'postgres' ? `${fmt((postgresCpu / seconds) * 100)}%` : '',
          ]);
        });
      }
    }
  }
  console.log('\nMultiprocess: the seed workload (each stream awaits its commands), beside the multi-threaded runner in the same run');
  console.log("(parent CPU: this process's share of one core over the run, threads included; the workers of 'multiprocess' are other processes)\n");
  table(['store', 'streams', 'runner', 'throughput', 'vs multi-threaded', 'parent CPU', 'PostgreSQL CPU'], rows);

  const kills: string[][] = [];
  for (const store of ['sqlite', 'postgres'] as const) {
    await withStore(store, async (env) => {
      const times = (await replacementTimes(env)).sort((a, b) => a - b);
      kills.push([store, `${fmt(times[0])} ms`, `${fmt(times[Math.floor(times.length / 2)])} ms`, `${fmt(times[times.length - 1])} ms`]);
    });
  }
  console.log(`\nFrom kill -9 of a worker to its replacement having processed a command recorded just after (${KILLS} kills, default supervision: 100 ms first backoff)\n`);
  table(['store', 'min', 'median', 'max'], kills);

  let rss: string[][] = [];
  await withStore('sqlite', async (env) => {
    rss = await memory(env);
  });
  console.log('\nResident memory after 2,000 commands over two pipelines (SQLite, child processes)\n');
  table(['process', 'resident'], rss);
}
