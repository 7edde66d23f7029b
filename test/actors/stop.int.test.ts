// stop() drains: no new runs, the run in flight finishes, every actor stops (bottom-up, since nact's
// own stop leaves children running), and nothing is left holding the event loop.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn as spawnChild } from 'node:child_process';
import { join } from 'node:path';
import { start, stop, type Ref } from 'nact';
import { ActorRunner, DomainEvent, ProcessEvent, System } from '../../src';
import { Counters, World } from '../seed-example';
import { backlogPosition, recordBacklog, SmallBatchCounters } from '../support/backlog';
import { postgresStore, sqliteStore, StoreSetup } from '../support/stores';
import { processIn, statusWhen, Worlds } from './support/systems';

// nact's internals, to look at the actors themselves (a stopped actor is unreachable through refs).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const systemMap = require('nact/lib/system-map') as { find(systemName: string): { children: Map<string, NactActor> } | undefined };
interface NactActor {
  readonly name: string;
  readonly stopped: boolean;
  readonly children: Map<string, NactActor>;
}

function descendants(actor: NactActor): NactActor[] {
  return [actor, ...[...actor.children.values()].flatMap(descendants)];
}

/** Each actor with its ancestors (nact forgets a stopped child, so this is taken beforehand). */
function lineages(actor: NactActor, ancestors: NactActor[] = []): Array<[NactActor, NactActor[]]> {
  return [[actor, ancestors], ...[...actor.children.values()].flatMap((child) => lineages(child, [...ancestors, actor]))];
}

describe('ActorRunner.stop', () => {
  it('lets the run in flight finish, then stops every actor, children first', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    class GatedCounters extends Counters {
      async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
        if (event instanceof World.SomethingHappened && event.what === 'gated') {
          entered();
          await gate;
        }
        await super.policy(event, processEvent);
      }
    }
    const userSystem: Ref<never> = start();
    const runner = new ActorRunner(new System({ pipes: [[Worlds, GatedCounters]] }), { parent: userSystem, pipelineIds: [0, 1] });
    await runner.start();
    const worlds = runner.get(Worlds);
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'first');
    await worlds.makeItSo(id, 'gated');
    await inFlight;

    const root = systemMap.find((userSystem as unknown as { system: { name: string } }).system.name)!;
    const runnerActor = root.children.get((runner.ref as unknown as { name: string }).name)!;
    const actors = descendants(runnerActor);
    const family = lineages(runnerActor);
    // SystemActor, 2 pipelines, each with 1 master (+ its slave) and 2 application actors.
    expect(actors.map((actor) => actor.name).filter((name) => /^slave-/.test(name))).toHaveLength(2);
    expect(actors).toHaveLength(1 + 2 * (1 + 1 + 1 + 2));

    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));
    try {
      await sleep(50);
      expect(stopped).toBe(false); // the run in flight holds it
      // The busy slave and its ancestors are still there; nothing above a live actor is stopped.
      const pipeline0 = [...runnerActor.children.values()].find((actor) => actor.name === 'pipeline-0')!;
      const master = [...pipeline0.children.values()].find((actor) => actor.name.startsWith('process-'))!;
      const slave = [...master.children.values()][0];
      expect([runnerActor, pipeline0, master, slave].map((actor) => actor.stopped)).toEqual([false, false, false, false]);
      // Bottom-up: no actor is stopped while one below it still runs.
      const stoppedAboveLive = family.filter(([actor, ancestors]) => !actor.stopped && ancestors.some((ancestor) => ancestor.stopped));
      expect(stoppedAboveLive.map(([actor]) => actor.name)).toEqual([]);
    } finally {
      open();
    }
    await stopping;

    expect(actors.filter((actor) => !actor.stopped).map((actor) => actor.name)).toEqual([]);
    expect(root.children.has(runnerActor.name)).toBe(false);
    stop(userSystem);
  });

  it('records what the run in flight processed before it stops', async () => {
    const store = sqliteStore();
    await store.setUp();
    try {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      class SlowCounters extends Counters {
        async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
          await gate;
          await super.policy(event, processEvent);
        }
      }
      const system = new System({ pipes: [[Worlds, SlowCounters]] });
      const runner = new ActorRunner(system, { env: store.env() });
      await runner.start();
      const worlds = runner.get(Worlds);
      const id = await worlds.createWorld();
      for (let i = 0; i < 5; i++) await worlds.makeItSo(id, 'drained');
      await statusWhen(runner, (s) => processIn(s, 'SlowCounters').state === 'running');
      const stopping = runner.stop();
      open();
      await stopping;

      const again = new ActorRunner(system, { env: store.env() });
      await again.start();
      // Whatever the drained run took on is recorded; the rest is processed now, none twice.
      expect(await again.get(SlowCounters).trackingPosition('Worlds')).toBeGreaterThan(0);
      await again.waitUntilIdle();
      expect(await again.get(SlowCounters).getCount('drained')).toBe(5);
      await again.stop();
    } finally {
      await store.tearDown();
    }
  });

  it('ends the run in flight after its current batch, not the whole backlog, and the next runner resumes exactly', async () => {
    const store = sqliteStore();
    await store.setUp();
    try {
      const system = new System({ pipes: [[Worlds, SmallBatchCounters]] });
      await recordBacklog(Worlds, store.env(), 1_000); // while no runner runs the follower
      const runner = new ActorRunner(system, { env: store.env() });
      await runner.start();
      await statusWhen(runner, (s) => processIn(s, 'SmallBatchCounters').state === 'running');
      await runner.stop();
      const position = await backlogPosition(store.env(), 'Worlds');
      expect(position).toBeLessThan(1_001); // stopped before the end of the backlog ...
      expect(position % 10).toBe(0); // ... at the end of a batch of 10

      const again = new ActorRunner(system, { env: store.env() });
      await again.start();
      await again.waitUntilIdle();
      expect(await again.get(SmallBatchCounters).getCount('backlog')).toBe(1_000);
      await again.stop();
    } finally {
      await store.tearDown();
    }
  });

  it('can be called twice, and a stopped runner cannot be started again', async () => {
    const runner = new ActorRunner(new System({ pipes: [[Worlds, Counters]] }));
    await runner.start();
    await Promise.all([runner.stop(), runner.stop()]);
    await expect(runner.start()).rejects.toThrow('this runner was already stopped: make a new one');
    expect(() => runner.get(Worlds)).toThrow(/stopped/);
  });
});

describe.each([
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('a process that stops its ActorRunner, on %s', (_name, makeStore) => {
  const store: StoreSetup = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('exits by itself: the runner leaves no timer, actor or connection behind', async () => {
    const script = join(__dirname, 'support', 'exit-after-stop.ts');
    const tsx = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const child = spawnChild(tsx, [script], { env: { ...process.env, ...store.env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running 20 s after starting: something holds the event loop');
      }, 20_000);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(code ?? String(signal));
      });
    });
    // The stuck process is warned of on stderr, at once; nothing else is written there.
    const lines = stderr.split('\n').filter((line) => line !== '');
    expect(lines.filter((line) => line.startsWith('eventsourcing warning: StuckCounters (pipeline 0) failed to process'))).toHaveLength(1);
    expect({ exited, stderr: lines.filter((line) => !line.startsWith('eventsourcing warning:')).join('\n') }).toEqual({ exited: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({ count: 1, stuck: 'backing-off' });
  });
});
