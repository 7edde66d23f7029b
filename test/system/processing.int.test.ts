// Following and processing: exactly once through failures, restarts and racing runs; shapes of
// systems (fan-out, fan-in, self-following, cycles) on every runner.
import {
  DomainEvent,
  DownstreamProcessingError,
  MultiThreadedRunner,
  PolicyError,
  ProcessEvent,
  Runner,
  RunnerError,
  SingleThreadedRunner,
  SkipError,
  SteppingMultiThreadedRunner,
  SteppingSingleThreadedRunner,
  System,
} from '../../src';
import { Counters, World, WorldsApplication } from '../seed-example';
import { Player, Server } from '../support/ball';
import { backlogPosition, recordBacklog, SmallBatchCounters } from '../support/backlog';
import { memoryStore, postgresStore, sqliteStore, StoreSetup } from '../support/stores';

type AsyncRunner = MultiThreadedRunner | SteppingSingleThreadedRunner | SteppingMultiThreadedRunner;
type RunnerName = 'single' | 'multi' | 'stepping-single' | 'stepping-multi';
const RUNNER_NAMES: RunnerName[] = ['single', 'multi', 'stepping-single', 'stepping-multi'];

function makeRunner(name: RunnerName, system: System, env: Record<string, string>): Runner {
  switch (name) {
    case 'single':
      return new SingleThreadedRunner(system, { env });
    case 'multi':
      return new MultiThreadedRunner(system, { env, pollIntervalMs: 50 });
    case 'stepping-single':
      return new SteppingSingleThreadedRunner(system, { env, tickIntervalMs: 1 });
    case 'stepping-multi':
      return new SteppingMultiThreadedRunner(system, { env, tickIntervalMs: 1 });
  }
}

const settle = (runner: Runner) =>
  runner instanceof SingleThreadedRunner ? Promise.resolve() : (runner as AsyncRunner).waitUntilIdle(20_000);

class MoreWorlds extends WorldsApplication {}
class OtherCounters extends Counters {}
class Ping extends Player {}
class Pong extends Player {}
class Solo extends Player {}

/** Fails the first time it sees 'poison-once', then works. */
class FlakyCounters extends Counters {
  static failed = false;
  async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
    if (event instanceof World.SomethingHappened && event.what === 'poison-once' && !FlakyCounters.failed) {
      FlakyCounters.failed = true;
      throw new Error('boom');
    }
    await super.policy(event, processEvent);
  }
}

describe.each(RUNNER_NAMES)('processing with the %s runner', (runnerName) => {
  const store = memoryStore();
  const runners: Runner[] = [];
  const start = async (system: System, env: Record<string, string> = {}) => {
    const runner = makeRunner(runnerName, system, { ...store.env(), ...env });
    runners.push(runner);
    await runner.start();
    return runner;
  };
  afterEach(async () => {
    await Promise.allSettled(runners.splice(0).map((runner) => runner.stop()));
  });

  it('lets two followers follow one leader', async () => {
    const runner = await start(new System({ pipes: [[WorldsApplication, Counters], [WorldsApplication, OtherCounters]] }));
    const worlds = runner.get(WorldsApplication);
    const id = await worlds.createWorld();
    for (const what of ['a', 'b', 'a']) await worlds.makeItSo(id, what);
    await settle(runner);
    for (const counters of [runner.get(Counters), runner.get(OtherCounters)]) {
      expect(await counters.getCount('a')).toBe(2);
      expect(await counters.getCount('b')).toBe(1);
    }
  });

  it('lets one follower follow two leaders', async () => {
    const runner = await start(new System({ pipes: [[WorldsApplication, Counters], [MoreWorlds, Counters]] }));
    const worlds = runner.get(WorldsApplication);
    const more = runner.get(MoreWorlds);
    const id1 = await worlds.createWorld();
    const id2 = await more.createWorld();
    await worlds.makeItSo(id1, 'a');
    await more.makeItSo(id2, 'a');
    await more.makeItSo(id2, 'b');
    await settle(runner);
    const counters = runner.get(Counters);
    expect(await counters.getCount('a')).toBe(2);
    expect(await counters.getCount('b')).toBe(1);
    expect(await counters.recorder.maxTrackingId('WorldsApplication')).toBe(2);
    expect(await counters.recorder.maxTrackingId('MoreWorlds')).toBe(3);
  });

  it('runs an application that follows itself, [[A, A]], to the end', async () => {
    const runner = await start(new System({ pipes: [[Solo, Solo]] }));
    const solo = runner.get(Solo);
    await solo.serve(300);
    await settle(runner);
    expect(await solo.hits()).toEqual(Array.from({ length: 301 }, (_, n) => n));
  });

  it('runs a cycle, [[A, B, A]], to the end with the right totals', async () => {
    const runner = await start(new System({ pipes: [[Ping, Pong, Ping]] }));
    await runner.get(Ping).serve(301);
    await settle(runner);
    const pings = await runner.get(Ping).hits();
    const pongs = await runner.get(Pong).hits();
    expect(pings).toEqual(Array.from({ length: 151 }, (_, i) => i * 2));
    expect(pongs).toEqual(Array.from({ length: 151 }, (_, i) => i * 2 + 1));
  });

  it('records nothing of a notification whose policy throws, reports it, and processes it on retry', async () => {
    FlakyCounters.failed = false;
    const runner = await start(new System({ pipes: [[WorldsApplication, FlakyCounters]] }));
    const worlds = runner.get(WorldsApplication);
    const counters = runner.get(FlakyCounters);
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'before');
    const failing = worlds.makeItSo(id, 'poison-once');
    const message = 'FlakyCounters failed to process notification 3 of WorldsApplication (pipeline 0): boom';
    if (runner instanceof SingleThreadedRunner) {
      // The command was recorded: the caller is told so, with the policy's failure as the cause.
      const error = await failing.catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(DownstreamProcessingError);
      expect((error as DownstreamProcessingError).cause).toBeInstanceOf(PolicyError);
      expect((error as DownstreamProcessingError).notificationIds).toEqual([3]);
      expect((error as Error).message).toContain(message);
      expect((error as Error).message).toMatch(/^WorldsApplication recorded the command \(notification 3\), but processing it downstream failed: /);
      expect(await counters.recorder.maxTrackingId('WorldsApplication')).toBe(2);
      expect(await counters.getCount('poison-once')).toBe(0);
      await worlds.makeItSo(id, 'after'); // the next prompt retries it
    } else {
      await failing;
      await expect(settle(runner)).rejects.toThrow(PolicyError);
      expect(runner.errors[0].message).toBe(message);
      await worlds.makeItSo(id, 'after');
      await settle(runner);
    }
    expect(await counters.getCount('before')).toBe(1);
    expect(await counters.getCount('poison-once')).toBe(1);
    expect(await counters.getCount('after')).toBe(1);
    expect(await counters.recorder.maxTrackingId('WorldsApplication')).toBe(4);
  });
});

describe('the single-threaded runner', () => {
  it('runs long cycles without deep recursion', async () => {
    const runner = new SingleThreadedRunner(new System({ pipes: [[Ping, Pong, Ping]] }));
    await runner.start();
    await runner.get(Ping).serve(5000);
    expect((await runner.get(Pong).hits()).length).toBe(2500);
    await runner.stop();
  });

  it('refuses use before start and after stop, and unknown applications', async () => {
    const runner = new SingleThreadedRunner(new System({ pipes: [[WorldsApplication, Counters]] }));
    expect(() => runner.get(WorldsApplication)).toThrow(RunnerError);
    await runner.start();
    expect(() => runner.get(MoreWorlds)).toThrow('MoreWorlds is not an application of this system');
    await expect(runner.start()).rejects.toThrow(/already started/);
    await runner.stop();
    expect(() => runner.get(WorldsApplication)).toThrow(/stopped/);
  });
});

describe('the multi-threaded runner', () => {
  it('names the lagging application when waitUntilIdle times out', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    class GatedCounters extends Counters {
      async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
        await gate;
        await super.policy(event, processEvent);
      }
    }
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, GatedCounters]] }));
    await runner.start();
    const worlds = runner.get(WorldsApplication);
    await worlds.makeItSo(await worlds.createWorld(), 'x'); // returns at once: processing waits at the gate
    await expect(runner.waitUntilIdle(100)).rejects.toThrow('waitUntilIdle timed out after 100 ms: still processing: GatedCounters');
    open();
    await runner.waitUntilIdle();
    expect(await runner.get(GatedCounters).getCount('x')).toBe(1);
    await runner.stop();
  });
  it('processes a lone command on the next turn of the event loop, without waiting for the poll', async () => {
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, Counters]] }), { pollIntervalMs: 3_600_000 });
    await runner.start();
    const worlds = runner.get(WorldsApplication);
    const counters = runner.get(Counters);
    const recorded = new Promise<void>((resolve) => counters.onRecorded(() => resolve()));
    await worlds.makeItSo(await worlds.createWorld(), 'alone');
    await recorded;
    expect(await counters.getCount('alone')).toBe(1);
    await runner.stop();
  });

  it('coalesces prompts: commands in a loop that never yields to the event loop are processed in batches, closely behind', async () => {
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, Counters]] }), { pollIntervalMs: 3_600_000 });
    await runner.start();
    const worlds = runner.get(WorldsApplication);
    const counters = runner.get(Counters);
    const id = await worlds.createWorld();
    await runner.waitUntilIdle();
    const writes: number[] = [];
    counters.onRecorded((recordings) => void writes.push(recordings.length));
    let processedDuringLoop = 0;
    for (let i = 0; i < 1_000; i++) {
      await worlds.makeItSo(id, 'often'); // in memory: resolves without a turn of the event loop
      processedDuringLoop = writes.reduce((sum, count) => sum + count, 0);
    }
    await runner.waitUntilIdle();
    expect(await counters.getCount('often')).toBe(1_000);
    // 1,001 events (a Created, then Incremented) in fewer writes than commands ...
    expect(writes.reduce((sum, count) => sum + count, 0)).toBe(1_001);
    expect(writes.length).toBeLessThan(100);
    // ... and the follower kept up while the loop ran, instead of waiting for it to end.
    expect(processedDuringLoop).toBeGreaterThan(800);
    await runner.stop();
  });
});

describe('stepping runners', () => {
  class Second extends Player {}
  class Third extends Player {}

  it.each(['stepping-single', 'stepping-multi'] as const)(
    'fetch before anyone processes, so nothing bleeds within a tick (%s)',
    async (name) => {
      const system = new System({ pipes: [[Server, Second, Third]] });
      const runner =
        name === 'stepping-single'
          ? new SteppingSingleThreadedRunner(system, { tickIntervalMs: null })
          : new SteppingMultiThreadedRunner(system, { tickIntervalMs: null });
      await runner.start();
      await runner.get(Server).serve(10);
      await runner.step();
      expect(runner.tick).toBe(1);
      expect(await runner.get(Second).hits()).toEqual([1]);
      expect(await runner.get(Third).hits()).toEqual([]);
      await runner.step();
      expect(await runner.get(Third).hits()).toEqual([2]);
      const served = runner.schedule(4, () => runner.get(Server).serve(10));
      await runner.step();
      expect(await runner.get(Second).hits()).toEqual([1]);
      await runner.step();
      await served;
      expect(await runner.get(Second).hits()).toEqual([1, 1]);
      expect(await runner.get(Third).hits()).toEqual([2]);
      await runner.waitUntilIdle();
      expect(await runner.get(Third).hits()).toEqual([2, 2]);
      await expect(runner.schedule(1, () => undefined)).rejects.toThrow(/not in the future/);
      await runner.stop();
    },
  );

  it('ticks on a clock scaled from normal speed', async () => {
    const runner = new SteppingSingleThreadedRunner(new System({ pipes: [[Server, Second]] }), { normalSpeed: 10, scaleFactor: 10 });
    expect(runner.tickIntervalMs).toBe(10);
    await runner.start();
    await runner.get(Server).serve(1);
    await runner.waitUntilIdle();
    expect(runner.tick).toBeGreaterThan(0);
    expect(await runner.get(Second).hits()).toEqual([1]);
    await runner.stop();
  });
});

describe.each([
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('durable processing on %s', (_name, makeStore) => {
  const store: StoreSetup = makeStore();
  const system = new System({ pipes: [[WorldsApplication, Counters]] });
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('resumes from tracking after a restart: nothing processed twice, nothing skipped', async () => {
    const first = new MultiThreadedRunner(system, { env: store.env() });
    await first.start();
    const worlds = first.get(WorldsApplication);
    const id = await worlds.createWorld();
    for (let i = 0; i < 20; i++) await worlds.makeItSo(id, i % 2 ? 'odd' : 'even');
    await first.waitUntilIdle();
    await first.stop();

    // The leader goes on while no runner runs the follower.
    const alone = new WorldsApplication({ env: store.env() });
    for (let i = 0; i < 10; i++) await alone.makeItSo(id, 'later');
    await alone.close();

    const second = new SingleThreadedRunner(system, { env: store.env() });
    await second.start(); // catches up on start
    const counters = second.get(Counters);
    expect(await counters.getCount('even')).toBe(10);
    expect(await counters.getCount('odd')).toBe(10);
    expect(await counters.getCount('later')).toBe(10);
    expect(await counters.recorder.maxTrackingId('WorldsApplication')).toBe(31);
    await second.stop();
  });

  it('stops a multi-threaded runner after the batch in flight, not the whole backlog, and resumes exactly', async () => {
    const backlogSystem = new System({ pipes: [[WorldsApplication, SmallBatchCounters]] });
    await recordBacklog(WorldsApplication, store.env(), 1_000); // while no runner runs the follower
    const runner = new MultiThreadedRunner(backlogSystem, { env: store.env() });
    await runner.start();
    await new Promise<void>((resolve) => runner.get(SmallBatchCounters).onRecorded(() => resolve())); // a first batch
    await runner.stop();
    const position = await backlogPosition(store.env(), 'WorldsApplication');
    expect(position).toBeLessThan(1_001);
    expect(position % 10).toBe(0);

    const again = new MultiThreadedRunner(backlogSystem, { env: store.env() });
    await again.start();
    await again.waitUntilIdle();
    expect(await again.get(SmallBatchCounters).getCount('backlog')).toBe(1_000);
    await again.stop();
  });

  it('processes each notification once when two runs race', async () => {
    const worlds = new WorldsApplication({ env: store.env() });
    const one = new Counters({ env: store.env() });
    const two = new Counters({ env: store.env() });
    for (const counters of [one, two]) counters.follow(worlds.name, worlds.recorder, worlds.mapper);
    const id = await worlds.createWorld();
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 25; i++) await worlds.makeItSo(id, `thing-${i % 5}`);
      await Promise.all([
        one.pullAndProcess(worlds.name, { batchSize: 7 }),
        two.pullAndProcess(worlds.name, { batchSize: 3 }),
        one.pullAndProcess(worlds.name, { batchSize: 1 }),
      ]);
    }
    await one.pullAndProcess(worlds.name);
    for (let i = 0; i < 5; i++) expect(await one.getCount(`thing-${i}`)).toBe(25);
    expect((await one.recorder.selectNotifications(0, 1000)).length).toBe(5 + 125);
    await Promise.all([worlds.close(), one.close(), two.close()]);
  });
});

describe('many commands', () => {
  const store = postgresStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('processes 10,000 commands through the pipeline on the multi-threaded runner over PostgreSQL, exactly', async () => {
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, Counters]] }), { env: store.env() });
    await runner.start();
    const worlds = runner.get(WorldsApplication);
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push(await worlds.createWorld());
    const things = Array.from({ length: 10 }, (_, i) => `thing-${i}`);
    const writers = Array.from({ length: 4 }, async (_, writer) => {
      for (let i = writer; i < 10_000; i += 4) await worlds.makeItSo(ids[i % 100], things[i % 10]);
    });
    await Promise.all(writers);
    await runner.waitUntilIdle(120_000);
    const counters = runner.get(Counters);
    for (const thing of things) expect(await counters.getCount(thing)).toBe(1000);
    await runner.stop();
  }, 180_000);
});

describe('a follower on its own', () => {
  it('processes what its leader records before save resolves, when led by hand', async () => {
    const ping = new Ping();
    const pong = new Pong();
    ping.lead(pong);
    await ping.serve(1);
    expect(await pong.hits()).toEqual([1]);
    await Promise.all([ping.close(), pong.close()]);
  });

  it('shows a batch’s policy calls what earlier calls saved, and nothing of it to anyone else until recorded', async () => {
    let reachGate!: () => void;
    const reached = new Promise<void>((resolve) => (reachGate = resolve));
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const seen: number[] = [];
    class GatedCounters extends Counters {
      async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
        if (event instanceof World.SomethingHappened && event.what === 'gate') {
          seen.push(await this.getCount('x')); // inside the batch: the two x's before it
          reachGate();
          await gate;
          return;
        }
        await super.policy(event, processEvent);
      }
    }
    const worlds = new WorldsApplication();
    const counters = new GatedCounters();
    counters.follow(worlds.name, worlds.recorder, worlds.mapper);
    const id = await worlds.createWorld();
    for (const what of ['x', 'x', 'gate', 'x']) await worlds.makeItSo(id, what);
    const processing = counters.pullAndProcess(worlds.name);
    await reached;
    expect(seen).toEqual([2]);
    expect(await counters.getCount('x')).toBe(0); // outside the batch: nothing is recorded yet
    openGate();
    expect(await processing).toBe(5);
    expect(await counters.getCount('x')).toBe(3);
    await Promise.all([worlds.close(), counters.close()]);
  });

  it('skips a notification on request, recording the skip and its reason in its own log', async () => {
    class PoisonCounters extends Counters {
      async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
        if (event instanceof World.SomethingHappened && event.what === 'poison') throw new Error('cannot count poison');
        await super.policy(event, processEvent);
      }
    }
    const worlds = new WorldsApplication();
    const counters = new PoisonCounters();
    counters.follow(worlds.name, worlds.recorder, worlds.mapper);
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'poison');
    await worlds.makeItSo(id, 'after');
    await expect(counters.pullAndProcess(worlds.name)).rejects.toThrow(
      'PoisonCounters failed to process notification 2 of WorldsApplication (pipeline 0): cannot count poison',
    );
    expect(await counters.recorder.maxTrackingId(worlds.name)).toBe(1);
    await expect(counters.skipNext(worlds.name, '   ')).rejects.toThrow(/needs a reason/);
    // Named, only that notification is skipped: another one next is refused, and nothing is written.
    await expect(counters.skipNext(worlds.name, 'wrong one', { notificationId: 3 })).rejects.toThrow(
      new SkipError('PoisonCounters cannot skip notification 3 of WorldsApplication (pipeline 0): the next notification is 2'),
    );
    expect(await counters.recorder.maxTrackingId(worlds.name)).toBe(1);
    expect(await counters.skipNext(worlds.name, 'poison pill', { notificationId: 2 })).toBe(2);
    expect(await counters.pullAndProcess(worlds.name)).toBe(1);
    expect(await counters.getCount('poison')).toBe(0);
    expect(await counters.getCount('after')).toBe(1);
    expect(await counters.skipNext(worlds.name, 'nothing left')).toBeUndefined();
    await expect(counters.skipNext(worlds.name, 'gone', { notificationId: 2 })).rejects.toThrow(/there is no next notification/);
    const log = await counters.notificationLog.select(1, 100);
    const skips = log.filter((n) => n.topic === 'eventsourcing:SkippedNotification.Recorded');
    expect(skips.length).toBe(1);
    const skip = counters.mapper.toDomainEvent(skips[0]) as unknown as { notificationId: number; reason: string; upstreamName: string };
    expect(skip).toMatchObject({ notificationId: 2, reason: 'poison pill', upstreamName: 'WorldsApplication' });
    await Promise.all([worlds.close(), counters.close()]);
  });
});
