// A caller that awaits commands in a loop on SQLite (writes that resolve without a macrotask) does
// not starve the event loop: timers keep firing, on every runner and without one.
import { ActorRunner, MultiThreadedRunner, Runner, SingleThreadedRunner, SteppingMultiThreadedRunner, System } from '../../src';
import { Counters, WorldsApplication } from '../seed-example';
import { sqliteStore } from '../support/stores';

const system = new System({ pipes: [[WorldsApplication, Counters]] });
const RUNNERS: Array<[string, (env: Record<string, string>) => Runner | undefined]> = [
  ['no runner', () => undefined],
  ['SingleThreadedRunner', (env) => new SingleThreadedRunner(system, { env })],
  ['MultiThreadedRunner', (env) => new MultiThreadedRunner(system, { env })],
  ['SteppingMultiThreadedRunner', (env) => new SteppingMultiThreadedRunner(system, { env, tickIntervalMs: 5 })],
  ['ActorRunner', (env) => new ActorRunner(system, { env })],
];

describe.each(RUNNERS)('a tight loop of awaited SQLite commands with %s', (_name, make) => {
  const store = sqliteStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('lets a timer keep firing', async () => {
    const runner = make(store.env());
    await runner?.start();
    const worlds = runner?.get(WorldsApplication) ?? new WorldsApplication({ env: store.env() });
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 2);
    try {
      const id = await worlds.createWorld();
      for (let i = 0; i < 2000; i++) await worlds.makeItSo(id, `thing-${i % 10}`);
      const ticksDuringLoop = ticks;
      expect(ticksDuringLoop).toBeGreaterThan(0);
      await (runner as MultiThreadedRunner | undefined)?.waitUntilIdle();
    } finally {
      clearInterval(timer);
      await (runner ? runner.stop() : worlds.close());
    }
  });
});
