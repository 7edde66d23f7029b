// Restart and skip on every runner, as the console calls them: a skip names the notification the
// caller saw failing, and a stale one (another is next, or the process failed elsewhere) is refused
// with nothing written.
import { join } from 'node:path';
import {
  ActorRunner,
  MultiprocessRunner,
  MultiThreadedRunner,
  Runner,
  SingleThreadedRunner,
  SkipError,
  SkippedNotification,
  SteppingSingleThreadedRunner,
  System,
  type ProcessStatus,
} from '../../src';
import { World, WorldsApplication } from '../seed-example';
import { eventsIn, failingCounters, Worlds } from '../actors/support/systems';
import { sqliteStore } from '../support/stores';
import { PickyCounters, system as pickySystem } from '../system/multiprocess/picky-system';
import { call } from './support';

const isWhat = (what: string) => (event: unknown) => event instanceof World.SomethingHappened && event.what === what;

async function processWhen(runner: Runner, name: string, predicate: (process: ProcessStatus) => boolean): Promise<ProcessStatus> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const process = (await runner.status()).pipelines[0].processes.find((p) => p.applicationName === name)!;
    if (predicate(process)) return process;
    if (Date.now() > deadline) throw new Error(`${name} never matched: ${JSON.stringify({ ...process, lastError: process.lastError?.message })}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Records before, poison (notification 3), after; resolves once the process shows it failed on 3. */
async function poisoned(runner: Runner, name: string): Promise<void> {
  const worlds = runner.get(Worlds);
  const id = await worlds.createWorld();
  await worlds.makeItSo(id, 'before');
  await worlds.makeItSo(id, 'poison').catch(() => undefined); // the single-threaded runner rejects it (downstream)
  await worlds.makeItSo(id, 'after').catch(() => undefined);
  // A supervising runner is done retrying once it is failed; the others retry at the next prompt or tick.
  const settled = (p: ProcessStatus) => (runner instanceof ActorRunner ? p.state === 'failed' : p.state !== 'running');
  await processWhen(runner, name, (p) => p.lastError?.notificationId === 3 && p.lag === 2 && settled(p));
}

const skips = async (runner: Runner, cls: ReturnType<typeof failingCounters>) =>
  (await eventsIn(runner.get(cls), 0)).filter((event) => event instanceof SkippedNotification.Recorded);

describe('restart and skip on every runner', () => {
  const runners: Runner[] = [];
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop().catch(() => undefined)));
  });

  const makers: Array<[string, (system: System) => Runner]> = [
    ['SingleThreadedRunner', (system) => new SingleThreadedRunner(system)],
    ['MultiThreadedRunner', (system) => new MultiThreadedRunner(system, { retryDelayMs: 5, maxRetryDelayMs: 20 })],
    ['SteppingSingleThreadedRunner', (system) => new SteppingSingleThreadedRunner(system, { tickIntervalMs: 5 })],
    ['ActorRunner', (system) => new ActorRunner(system, { supervision: { minBackoffMs: 1, maxBackoffMs: 4, maxRestarts: 2 } })],
  ];

  it.each(makers)('%s: skips only the notification named, then processes the rest', async (_, make) => {
    const PoisonCounters = failingCounters('PoisonCounters', isWhat('poison'));
    const runner = make(new System({ pipes: [[Worlds, PoisonCounters]] }));
    runners.push(runner);
    await runner.start();
    await poisoned(runner, 'PoisonCounters');

    // A stale request: another notification than the one failing is never skipped.
    await expect(runner.skip(PoisonCounters, 'stale', { upstreamName: 'Worlds', notificationId: 2 })).rejects.toThrow(SkipError);
    await expect(runner.skip(PoisonCounters, 'stale', { upstreamName: 'Worlds', notificationId: 4 })).rejects.toThrow(SkipError);
    expect(await skips(runner, PoisonCounters)).toEqual([]);

    expect(await runner.skip(PoisonCounters, 'bad data', { upstreamName: 'Worlds', notificationId: 3 })).toBe(3);
    const after = await processWhen(runner, 'PoisonCounters', (p) => p.lag === 0);
    expect(after.lastError).toBeUndefined();
    expect(await skips(runner, PoisonCounters)).toEqual([expect.objectContaining({ upstreamName: 'Worlds', notificationId: 3, reason: 'bad data' })]);
    const counters = runner.get(PoisonCounters);
    expect([await counters.getCount('before'), await counters.getCount('poison'), await counters.getCount('after')]).toEqual([1, 0, 1]);
    runner.errors.splice(0); // reported here
  });

  it.each(makers)('%s: restart has a process that failed try again', async (_, make) => {
    let broken = true;
    const FragileCounters = failingCounters('FragileCounters', (event) => broken && isWhat('poison')(event));
    const runner = make(new System({ pipes: [[Worlds, FragileCounters]] }));
    runners.push(runner);
    await runner.start();
    await poisoned(runner, 'FragileCounters');
    broken = false;
    await runner.restart(FragileCounters);
    await processWhen(runner, 'FragileCounters', (p) => p.lag === 0);
    expect(await runner.get(FragileCounters).getCount('poison')).toBe(1);
    await expect(runner.restart(Worlds as never)).rejects.toThrow(/Worlds is not a process application|no process application named Worlds/);
    runner.errors.splice(0);
  });

  it('MultiprocessRunner: a skip naming another notification than the failing one is refused; the right one is skipped', async () => {
    const store = sqliteStore();
    await store.setUp();
    try {
      const runner = new MultiprocessRunner(pickySystem, {
        env: store.env(),
        systemModule: { path: join(__dirname, '..', 'system', 'multiprocess', 'picky-system.ts') },
        isolation: 'thread',
        supervision: { minBackoffMs: 1, maxBackoffMs: 4, maxRestarts: 1 },
      });
      runners.push(runner);
      await runner.start();
      const worlds = runner.get(WorldsApplication);
      const id = await worlds.createWorld();
      for (const what of ['before', 'poison', 'after']) await worlds.makeItSo(id, what);
      await processWhen(runner, 'PickyCounters', (p) => p.state === 'failed' && p.lastError?.notificationId === 3);
      await expect(runner.skip(PickyCounters, 'stale', { upstreamName: 'WorldsApplication', notificationId: 4 })).rejects.toThrow(
        'PickyCounters (pipeline 0) cannot skip notification 4 of WorldsApplication: it failed on notification 3 of WorldsApplication',
      );
      expect((await processWhen(runner, 'PickyCounters', () => true)).state).toBe('failed');
      expect(await runner.skip(PickyCounters, 'bad data', { upstreamName: 'WorldsApplication', notificationId: 3 })).toBe(3);
      await processWhen(runner, 'PickyCounters', (p) => p.lag === 0);
      expect(await runner.get(PickyCounters).getCount('after')).toBe(1);
      runner.errors.splice(0);
      await runner.stop();
    } finally {
      await store.tearDown();
    }
  });

  it("runner.console serves the runner's own status and actions, and closes when the runner stops", async () => {
    const PoisonCounters = failingCounters('PoisonCounters', isWhat('poison'));
    const runner = new SingleThreadedRunner(new System({ pipes: [[Worlds, PoisonCounters]] }));
    runners.push(runner);
    await runner.start();
    await expect(runner.console({ port: 0 } as never)).rejects.toThrow(/the console needs a token/);
    const server = await runner.console({ port: 0, token: 'secret' });
    await poisoned(runner, 'PoisonCounters');
    const status = await call(server.url, '/status');
    expect(status.body).toMatchObject({ processes: [{ applicationName: 'PoisonCounters', lag: 2, lastError: { notificationId: 3, upstreamName: 'Worlds' } }] });
    const skip = { applicationName: 'PoisonCounters', pipelineId: 0, upstreamName: 'Worlds', reason: 'bad data' };
    expect(await call(server.url, '/api/skip', { token: 'secret', body: { ...skip, notificationId: 4 } })).toMatchObject({
      status: 409,
      body: { error: 'PoisonCounters cannot skip notification 4 of Worlds (pipeline 0): the next notification is 3' },
    });
    expect(await call(server.url, '/api/skip', { token: 'secret', body: { ...skip, notificationId: 3 } })).toMatchObject({ status: 200, body: { skipped: 3 } });
    await processWhen(runner, 'PoisonCounters', (p) => p.lag === 0);
    runner.errors.splice(0);
    await runner.stop();
    await server.closed;
    await expect(fetch(server.url)).rejects.toThrow();
  });
});
