import { AssertionError } from 'node:assert';
import { DomainEvent, MultiThreadedRunner, ProcessApplication, ProcessEvent, SingleThreadedRunner, System } from '../../src';
import { untilIdle, withRunner } from '../../src/testing';
import { Counters, system, World, WorldsApplication } from '../seed-example';

class Refusing extends ProcessApplication {
  async policy(domainEvent: DomainEvent, _processEvent: ProcessEvent): Promise<void> {
    if (domainEvent instanceof World.SomethingHappened) throw new RangeError(`no ${domainEvent.what} here`);
  }
}

describe('withRunner', () => {
  it('starts the runner, runs the body (which waits until idle to check what followers did), and stops the runner', async () => {
    const runner = new MultiThreadedRunner(system, { env: { PERSISTENCE: 'memory' } });
    const count = await withRunner(runner, async (r) => {
      const worlds = r.get(WorldsApplication);
      for (let i = 0; i < 5; i++) await worlds.makeItSo(await worlds.createWorld(), 'dinosaurs');
      await untilIdle(r);
      return r.get(Counters).getCount('dinosaurs');
    });
    expect(count).toBe(5);
    expect(runner.isRunning).toBe(false);
  });

  it('waits until idle after the body, and rejects when processing failed', async () => {
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, Refusing]] }), { env: { PERSISTENCE: 'memory' } });
    await expect(
      withRunner(runner, async (r) => {
        const worlds = r.get(WorldsApplication);
        await worlds.makeItSo(await worlds.createWorld(), 'trucks');
      }),
    ).rejects.toThrow(/^the system did not become idle: PolicyError: Refusing failed to process notification 2 of WorldsApplication/);
    expect(runner.isRunning).toBe(false);
  });

  it('stops the runner when the body throws, and rejects with the body’s error', async () => {
    const runner = new SingleThreadedRunner(system, { env: { PERSISTENCE: 'memory' } });
    await expect(
      withRunner(runner, () => {
        throw new RangeError('the body failed');
      }),
    ).rejects.toThrow('the body failed');
    expect(runner.isRunning).toBe(false);
  });
});

describe('untilIdle', () => {
  it('fails with the processing error and where every process stands', async () => {
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, Refusing]] }), { env: { PERSISTENCE: 'memory' } });
    await runner.start();
    try {
      const worlds = runner.get(WorldsApplication);
      await worlds.makeItSo(await worlds.createWorld(), 'trucks');
      const failure = await untilIdle(runner).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(AssertionError);
      const message = (failure as Error).message;
      expect(message).toMatch(
        /^the system did not become idle: PolicyError: Refusing failed to process notification 2 of WorldsApplication \(pipeline 0\): no trucks here\n {2}Refusing \(pipeline 0\): /,
      );
      expect(message).toMatch(/WorldsApplication at 1 of 2/);
      expect(message).toMatch(/last error: Refusing failed to process notification 2/);
      expect((failure as Error).cause).toBeInstanceOf(Error);
    } finally {
      await runner.stop().catch(() => undefined);
    }
  });
});
