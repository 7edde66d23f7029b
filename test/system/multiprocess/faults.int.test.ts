// Runners whose processes run in workers (the MultiprocessRunner, the ActorRunner with process slaves) under faults: workers killed with SIGKILL in the middle of commands,
// stopped with SIGSTOP, a parent killed with SIGKILL, modules that do not load or hold another
// system, failing policies; and the work split into pipelines, stopped and resumed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ActorRunner, MultiprocessRunner, PolicyError, RunnerError, type ProcessStatus, type System } from '../../../src';
import { Counters, system, WorldsApplication } from '../../seed-example';
import { postgresStore, sqliteStore, type StoreSetup } from '../../support/stores';
import { system as chainSystem, Tallies } from './chain-system';
import { PickyCounters, system as pickySystem } from './picky-system';

const SEED_MODULE = { path: join(__dirname, '..', '..', 'seed-example.ts') };
const PICKY_MODULE = { path: join(__dirname, 'picky-system.ts') };
const CHAIN_MODULE = { path: join(__dirname, 'chain-system.ts') };
const FAST_SUPERVISION = { minBackoffMs: 10, maxBackoffMs: 100 };

/** What the tests need of a runner whose processes run in workers: both kinds have it. */
type WorkerRunner = MultiprocessRunner | ActorRunner;
type WorkerRunnerOptions = ConstructorParameters<typeof MultiprocessRunner>[1];

const KINDS = [
  ['MultiprocessRunner', (s: System, options: WorkerRunnerOptions): WorkerRunner => new MultiprocessRunner(s, options)],
  ["ActorRunner with slaves: 'process'", (s: System, options: WorkerRunnerOptions): WorkerRunner => new ActorRunner(s, { ...options, slaves: 'process' })],
] as const;

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function processOf(runner: WorkerRunner, pipelineId = 0): Promise<ProcessStatus> {
  const status = await runner.status();
  return status.pipelines.find((pipeline) => pipeline.pipelineId === pipelineId)!.processes[0];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.each(KINDS.flatMap(([kind, make]) => [[kind, 'sqlite', make, sqliteStore] as const, [kind, 'postgres', make, postgresStore] as const]))('the %s over %s', (_kind, _name, make, makeStore) => {
  const store: StoreSetup = makeStore();
  let runner: WorkerRunner | undefined;
  beforeEach(() => store.setUp());
  afterEach(async () => {
    await runner?.stop().catch(() => undefined);
    runner = undefined;
    await store.tearDown();
  });

  it('replaces a worker killed with SIGKILL in the middle of 2,000 commands, several times, and counts each command once', async () => {
    runner = make(system, { env: store.env(), systemModule: SEED_MODULE, supervision: FAST_SUPERVISION });
    await runner.start();
    const worlds = runner.get(WorldsApplication);
    const ids = await Promise.all(Array.from({ length: 10 }, () => worlds.createWorld()));
    const pids = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      await worlds.makeItSo(ids[i % 10], `thing-${i % 4}`);
      if (i % 500 === 250) {
        const pid = await eventually('a live worker', async () => (await processOf(runner!)).pid);
        pids.add(pid);
        process.kill(pid, 'SIGKILL');
      }
    }
    await runner.waitUntilIdle(60_000).catch((error: unknown) => {
      // A kill is reported as the worker's failure; what matters is that the work was done.
      if (!/was killed by SIGKILL/.test((error as Error).message)) throw error;
    });
    await runner.waitUntilIdle(60_000);
    const counters = runner.get(Counters);
    for (let t = 0; t < 4; t++) expect(await counters.getCount(`thing-${t}`)).toBe(500);
    const after = await processOf(runner);
    expect(after.upstreams[0].position).toBe(after.upstreams[0].head);
    expect(after.restarts).toBeGreaterThanOrEqual(pids.size);
    expect(pids.size).toBe(4);
    expect(after.pid).toBeDefined();
    expect(pids.has(after.pid!)).toBe(false);
  });

  it('runs four pipelines with a worker each, with exact totals per pipeline', async () => {
    const pipelineIds = [0, 1, 2, 3];
    runner = make(system, { env: store.env(), systemModule: SEED_MODULE, pipelineIds });
    await runner.start();
    await Promise.all(
      pipelineIds.map(async (pipelineId) => {
        const worlds = runner!.get(WorldsApplication, pipelineId);
        const id = await worlds.createWorld();
        // Counters of one thing are one aggregate in every pipeline: each pipeline counts its own thing.
        for (let i = 0; i < 25 * (pipelineId + 1); i++) await worlds.makeItSo(id, `dinosaurs-${pipelineId}`);
      }),
    );
    await runner.waitUntilIdle(60_000);
    for (const pipelineId of pipelineIds) {
      expect(await runner.get(Counters, pipelineId).getCount(`dinosaurs-${pipelineId}`)).toBe(25 * (pipelineId + 1));
      const [upstream] = (await processOf(runner, pipelineId)).upstreams;
      expect(upstream.position).toBe(upstream.head);
    }
    const pids = (await runner.status()).pipelines.map((pipeline) => pipeline.processes[0].pid);
    expect(new Set(pids).size).toBe(4);
  });

  it('resumes exactly where it stopped when a new runner starts over the same store', async () => {
    runner = make(system, { env: store.env(), systemModule: SEED_MODULE });
    await runner.start();
    const id = await runner.get(WorldsApplication).createWorld();
    for (let i = 0; i < 50; i++) await runner.get(WorldsApplication).makeItSo(id, 'trucks');
    await runner.waitUntilIdle(30_000);
    await runner.stop();
    // Recorded while nothing runs: the next runner's worker catches up when it starts.
    const worlds = new WorldsApplication({ env: store.env() });
    for (let i = 0; i < 30; i++) await worlds.makeItSo(id, 'trucks');
    await worlds.close();
    runner = make(system, { env: store.env(), systemModule: SEED_MODULE, isolation: 'thread' });
    await runner.start();
    await runner.waitUntilIdle(30_000);
    expect(await runner.get(Counters).getCount('trucks')).toBe(80);
  });

  it('reports a failing policy in a worker as the multi-threaded runner does, goes failed past the limit, and moves on after skip', async () => {
    runner = make(pickySystem, {
      env: store.env(),
      systemModule: PICKY_MODULE,
      supervision: { minBackoffMs: 5, maxBackoffMs: 10, maxRestarts: 2 },
    });
    await runner.start();
    const worlds = runner.get(WorldsApplication);
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'cats');
    await worlds.makeItSo(id, 'poison');
    await worlds.makeItSo(id, 'cats');
    const error = await runner.waitUntilIdle(30_000).then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );
    expect(error).toBeInstanceOf(PolicyError);
    expect(error!.message).toMatch(/PickyCounters failed to process notification 3 of WorldsApplication \(pipeline 0\): PickyCounters refuses poison/);
    const failed = await eventually('the process to be failed', async () => {
      const process = await processOf(runner!);
      return process.state === 'failed' ? process : undefined;
    });
    expect(failed.lastError).toMatchObject({ upstreamName: 'WorldsApplication', notificationId: 3, pipelineId: 0 });
    expect(failed.restarts).toBe(2);
    expect(await runner.skip(PickyCounters, 'poison is not counted')).toBe(3);
    await eventually('the rest to be processed', async () => ((await runner!.get(PickyCounters).getCount('cats')) === 2 ? true : undefined));
    await runner.waitUntilIdle(30_000).catch(() => undefined); // the errors of the failed runs are reported once
    await runner.waitUntilIdle(30_000);
    const kept = await processOf(runner);
    expect(kept.state).toBe('idle');
    // The worker outlived the failed runs; killed now, it is still replaced.
    process.kill(kept.pid!, 'SIGKILL');
    await worlds.makeItSo(id, 'cats');
    await eventually('the worker to be replaced', async () => ((await runner!.get(PickyCounters).getCount('cats')) === 3 ? true : undefined));
    expect((await processOf(runner)).pid).not.toBe(kept.pid);
  });
});

describe.each(KINDS)('the %s over SQLite, with failing workers', (kind, make) => {
  const store = sqliteStore();
  let runner: WorkerRunner | undefined;
  beforeEach(() => store.setUp());
  afterEach(async () => {
    await runner?.stop().catch(() => undefined);
    runner = undefined;
    await store.tearDown();
  });

  it('kills and replaces a worker stopped with SIGSTOP once it misses its heartbeats', async () => {
    runner = make(system, {
      env: { ...store.env(), SQLITE_BUSY_TIMEOUT_MS: '200' },
      systemModule: SEED_MODULE,
      heartbeat: { intervalMs: 100, timeoutMs: 1000 },
      supervision: FAST_SUPERVISION,
    });
    await runner.start();
    const stopped = (await processOf(runner)).pid!;
    process.kill(stopped, 'SIGSTOP');
    const replaced = await eventually('a new worker', async () => {
      const process = await processOf(runner!);
      return process.pid !== undefined && process.pid !== stopped ? process : undefined;
    });
    expect(replaced.restarts).toBe(1);
    expect(replaced.lastError?.message).toMatch(/was killed: it answered no heartbeat for 1000 ms/);
    await eventually('the stopped worker to be gone', () => (alive(stopped) ? undefined : true));
    const worlds = runner.get(WorldsApplication);
    await worlds.makeItSo(await worlds.createWorld(), 'internet');
    await runner.waitUntilIdle(30_000).catch(() => undefined); // the kill, reported once
    await runner.waitUntilIdle(30_000);
    expect(await runner.get(Counters).getCount('internet')).toBe(1);
  });

  it("prompts a worker that follows another worker's log, without waiting for the poll", async () => {
    runner = make(chainSystem, { env: store.env(), systemModule: CHAIN_MODULE, pollIntervalMs: 600_000 });
    await runner.start();
    const worlds = runner.get(WorldsApplication);
    const id = await worlds.createWorld();
    for (let i = 0; i < 20; i++) await worlds.makeItSo(id, 'dinosaurs');
    // No waitUntilIdle (it nudges every process): only prompts move Tallies along.
    await eventually('Tallies to have counted every increment', async () => ((await runner!.get(Tallies).getTally()) === 20 ? true : undefined), 10_000);
  });

  it('kills a worker that does not exit within the grace period when stopping, leaving nothing running', async () => {
    runner = make(system, { env: store.env(), systemModule: SEED_MODULE, stopGraceMs: 300 });
    await runner.start();
    const stuck = (await processOf(runner)).pid!;
    process.kill(stuck, 'SIGSTOP');
    await runner.stop();
    expect(alive(stuck)).toBe(false);
    runner = undefined;
  });

  it('leaves no worker behind when its parent is killed with SIGKILL', async () => {
    const parent = spawn(join(__dirname, '..', '..', '..', 'node_modules', '.bin', 'tsx'), [join(__dirname, 'parent.ts'), kind], {
      env: { ...process.env, ...store.env() },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pids = await new Promise<number[]>((resolve, reject) => {
      let output = '';
      parent.stdout!.on('data', (chunk: Buffer) => {
        output += chunk;
        const line = output.split('\n').find((candidate) => candidate.startsWith('['));
        if (line !== undefined) resolve(JSON.parse(line) as number[]);
      });
      parent.on('exit', (code) => reject(new Error(`the parent exited with ${code} before its workers started`)));
    });
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    // tsx runs the script in a child of its own: kill that node process, the runner's.
    const runnerPid = await eventually('the runner process', () => {
      const ppid = parentOf(pids[0]);
      return ppid === undefined ? undefined : ppid;
    });
    process.kill(runnerPid, 'SIGKILL');
    await eventually('every worker to exit', () => (pids.some(alive) ? undefined : true), 10_000);
    parent.kill('SIGKILL');
  });

  it('fails to start with a clear error when the system module throws, lacks the export, or holds another system', async () => {
    const attempts: Array<[object, RegExp]> = [
      [{ path: join(__dirname, 'throwing-system.ts') }, /throwing-system\.ts failed to load in a worker: this system module refuses to load/],
      [{ ...SEED_MODULE, exportName: 'nothing' }, /seed-example\.ts has no export 'nothing' \(it exports: .*system/],
      [PICKY_MODULE, /picky-system\.ts is not the runner's system: it lacks the applications Counters; it has applications the runner's system has not: PickyCounters/],
    ];
    for (const [systemModule, message] of attempts) {
      const attempt = make(system, { env: store.env(), systemModule: systemModule as { path: string } });
      await expect(attempt.start()).rejects.toThrow(message);
      await attempt.stop();
    }
  });

  it('refuses stores that workers cannot share, and a heartbeat that SQLite could outwait', () => {
    expect(() => make(system, { env: { PERSISTENCE: 'memory' }, systemModule: SEED_MODULE })).toThrow(
      /PERSISTENCE=memory, which the (MultiprocessRunner|ActorRunner with slaves: 'process') cannot run: its workers are other processes.*Use PERSISTENCE=sqlite/,
    );
    expect(() => make(system, { env: { PERSISTENCE: 'sqlite', SQLITE_DBNAME: ':memory:' }, systemModule: SEED_MODULE })).toThrow(
      /SQLITE_DBNAME=:memory:, which other processes cannot open/,
    );
    expect(() => make(system, { env: store.env(), systemModule: SEED_MODULE, heartbeat: { timeoutMs: 3000 } })).toThrow(
      /heartbeat.timeoutMs \(3000\) must exceed SQLITE_BUSY_TIMEOUT_MS \(5000\)/,
    );
    expect(() => make(system, { env: store.env() } as never)).toThrow(RunnerError);
    expect(() => make(system, { env: store.env(), systemModule: { path: 'relative/system.ts' } })).toThrow(/must be an absolute path/);
  });
});

/** The parent process id of `pid` (from /proc), if it is still running. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8') as string;
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}
