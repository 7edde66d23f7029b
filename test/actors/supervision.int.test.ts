// Supervision: a process that keeps failing on one notification ends in `failed` and stays there
// until told to restart or to skip that notification; other processes and pipelines keep working.
import { setTimeout as sleep } from 'node:timers/promises';
import { ActorRunner, PolicyError, RunnerError, SkippedNotification, System } from '../../src';
import { World } from '../seed-example';
import { caughtUp, CountersWithCommands, eventsIn, failingCounters, processIn, statusWhen, Worlds } from './support/systems';

const isWhat = (what: string) => (event: unknown) => event instanceof World.SomethingHappened && event.what === what;

describe('the ActorRunner supervising a failing process', () => {
  const runners: ActorRunner[] = [];
  const start = async (runner: ActorRunner) => {
    runners.push(runner);
    await runner.start();
    return runner;
  };
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
  });

  it('ends in failed on a notification that always fails; skip lets the rest through', async () => {
    const PoisonCounters = failingCounters('PoisonCounters', isWhat('poison'));
    const runner = await start(
      new ActorRunner(new System({ pipes: [[Worlds, PoisonCounters], [Worlds, CountersWithCommands]] }), {
        pipelineIds: [0, 1],
        supervision: { minBackoffMs: 1, maxBackoffMs: 4, maxRestarts: 3 },
      }),
    );
    const worlds = runner.get(Worlds);
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'before');
    await worlds.makeItSo(id, 'poison'); // notification 3
    await worlds.makeItSo(id, 'after');
    const elsewhere = runner.get(Worlds, 1);
    await elsewhere.makeItSo(await elsewhere.createWorld(), 'poison-free');

    await expect(runner.waitUntilIdle(10_000)).rejects.toThrow(
      'PoisonCounters failed to process notification 3 of Worlds (pipeline 0): PoisonCounters refuses \'poison\'',
    );
    const status = await statusWhen(runner, (s) => processIn(s, 'CountersWithCommands').lag === 0 && processIn(s, 'PoisonCounters', 1).lag === 0);
    const poisoned = processIn(status, 'PoisonCounters');
    expect(poisoned).toMatchObject({
      state: 'failed',
      restarts: 3,
      lag: 2,
      upstreams: [{ upstreamName: 'Worlds', position: 2, head: 4, lag: 2 }],
      lastError: { upstreamName: 'Worlds', notificationId: 3, pipelineId: 0 },
    });
    expect(poisoned.lastError?.error).toBeInstanceOf(PolicyError);
    // Everything else keeps working: the other process of the pipeline, and the other pipeline.
    expect(processIn(status, 'CountersWithCommands')).toMatchObject({ state: caughtUp(), lag: 0 });
    expect(processIn(status, 'PoisonCounters', 1)).toMatchObject({ state: caughtUp(), lag: 0, restarts: 0 });
    expect(await runner.get(CountersWithCommands).getCount('after')).toBe(1);
    expect(await runner.get(PoisonCounters, 1).getCount('poison-free')).toBe(1);

    // It stays failed: prompts and ticks do not move it.
    await worlds.makeItSo(id, 'later');
    await runner.get(CountersWithCommands).getCount('later');
    await sleep(30);
    expect(processIn(await runner.status(), 'PoisonCounters')).toMatchObject({ state: 'failed', restarts: 3 });

    expect(await runner.skip(PoisonCounters, 'poison is bad data')).toBe(3);
    await runner.waitUntilIdle();
    const counters = runner.get(PoisonCounters);
    expect(await counters.getCount('before')).toBe(1);
    expect(await counters.getCount('poison')).toBe(0);
    expect(await counters.getCount('after')).toBe(1);
    expect(await counters.getCount('later')).toBe(1);
    const skipped = (await eventsIn(counters, 0)).filter((event) => event instanceof SkippedNotification.Recorded);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ upstreamName: 'Worlds', notificationId: 3, pipelineId: 0, reason: 'poison is bad data' });
    const after = processIn(await runner.status(), 'PoisonCounters');
    expect(after).toMatchObject({ state: caughtUp(), lag: 0, upstreams: [{ position: 5, head: 5 }] });
    expect(after.lastError).toBeUndefined(); // the skip moved the process past its failure
  });

  it('restarts a failed process when told to, from its tracking position', async () => {
    let broken = true;
    const FragileCounters = failingCounters('FragileCounters', (event) => broken && isWhat('fragile')(event));
    const runner = await start(
      new ActorRunner(new System({ pipes: [[Worlds, FragileCounters]] }), { supervision: { minBackoffMs: 1, maxBackoffMs: 2, maxRestarts: 2 } }),
    );
    await expect(runner.restart(FragileCounters)).rejects.toThrow('cannot restart FragileCounters (pipeline 0): it is idle, not failed');
    await expect(runner.skip(FragileCounters, 'why not')).rejects.toThrow(/it is idle, not failed/);
    const worlds = runner.get(Worlds);
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'sturdy');
    await worlds.makeItSo(id, 'fragile');
    await expect(runner.waitUntilIdle()).rejects.toThrow(PolicyError);
    expect(processIn(await runner.status(), 'FragileCounters')).toMatchObject({ state: 'failed', restarts: 2, upstreams: [{ position: 2 }] });

    broken = false;
    await runner.restart(FragileCounters);
    await runner.waitUntilIdle();
    const counters = runner.get(FragileCounters);
    expect(await counters.getCount('sturdy')).toBe(1);
    expect(await counters.getCount('fragile')).toBe(1);
    expect(processIn(await runner.status(), 'FragileCounters')).toMatchObject({ state: caughtUp(), restarts: 2, lag: 0 });
    await expect(runner.restart(Worlds as never)).rejects.toThrow('pipeline 0 has no process application named Worlds (it has: FragileCounters)');
    await expect(runner.skip(FragileCounters, ' ')).rejects.toThrow('a skip needs a reason');
  });

  it('fails on a record that cannot be decoded, and skips it when told to', async () => {
    const runner = await start(
      new ActorRunner(new System({ pipes: [[Worlds, CountersWithCommands]] }), {
        pollIntervalMs: 10, // the bad record is written past the application: only the poll finds it
        supervision: { minBackoffMs: 1, maxBackoffMs: 2, maxRestarts: 1 },
      }),
    );
    const worlds = runner.get(Worlds);
    const id = await worlds.createWorld();
    await worlds.recorder.insertEvents([{ originatorId: 'garbled', originatorVersion: 1, topic: 'Nowhere.Unknown', state: new Uint8Array([1, 2, 3]) }]);
    await worlds.makeItSo(id, 'after');
    const status = await statusWhen(runner, (s) => processIn(s, 'CountersWithCommands').state === 'failed');
    expect(processIn(status, 'CountersWithCommands').lastError).toMatchObject({ upstreamName: 'Worlds', notificationId: 2 });
    expect(processIn(status, 'CountersWithCommands').lastError?.message).toMatch(/Nowhere\.Unknown/);
    expect(await runner.skip(CountersWithCommands, 'garbled record')).toBe(2);
    await runner.waitUntilIdle();
    expect(await runner.get(CountersWithCommands).getCount('after')).toBe(1);
  });

  it('backs off exponentially between restarts', async () => {
    const StubbornCounters = failingCounters('StubbornCounters', isWhat('never'));
    const runner = await start(
      new ActorRunner(new System({ pipes: [[Worlds, StubbornCounters]] }), {
        supervision: { minBackoffMs: 20, maxBackoffMs: 60, randomFactor: 0.5, maxRestarts: 4 },
        random: () => 0, // no jitter: 20, 40, 60, 60
      }),
    );
    const worlds = runner.get(Worlds);
    await worlds.makeItSo(await worlds.createWorld(), 'never');
    const started = Date.now();
    await statusWhen(runner, (s) => processIn(s, 'StubbornCounters').state === 'failed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    expect(processIn(await runner.status(), 'StubbornCounters').restarts).toBe(4);
  });

  it('shows a process backing off, names it when waitUntilIdle times out, and stops without waiting for it', async () => {
    const SlowToRecover = failingCounters('SlowToRecover', isWhat('boom'));
    const runner = new ActorRunner(new System({ pipes: [[Worlds, SlowToRecover]] }), { supervision: { minBackoffMs: 60_000 } });
    await runner.start();
    const worlds = runner.get(Worlds);
    await worlds.makeItSo(await worlds.createWorld(), 'boom');
    const status = await statusWhen(runner, (s) => processIn(s, 'SlowToRecover').state === 'backing-off');
    expect(processIn(status, 'SlowToRecover')).toMatchObject({ restarts: 1, lag: 1, lastError: { notificationId: 2 } });
    await expect(runner.waitUntilIdle(50)).rejects.toThrow(
      "waitUntilIdle timed out after 50 ms: still processing: SlowToRecover (pipeline 0) is backing-off after SlowToRecover failed to process notification 2 of Worlds (pipeline 0): SlowToRecover refuses 'boom'",
    );
    const stopping = Date.now();
    await runner.stop();
    expect(Date.now() - stopping).toBeLessThan(1000);
    await expect(runner.status()).rejects.toThrow(RunnerError);
    await expect(runner.waitUntilIdle()).rejects.toThrow('the runner is not running');
  });
});
