// Shapes of systems on the ActorRunner: chains, fan-out, fan-in, an application following itself,
// and cycles, run to the end (prompts flow from master to master through the pipeline actors).
import { ActorRunner, System } from '../../src';
import { Player, Server } from '../support/ball';
import { sqliteStore } from '../support/stores';
import { CountersWithCommands, Worlds } from './support/systems';

class Ping extends Player {}
class Pong extends Player {}
class Solo extends Player {}
class Second extends Player {}
class Third extends Player {}
class Other extends Player {}

describe('system shapes on the ActorRunner', () => {
  const runners: ActorRunner[] = [];
  const run = async (system: System, options: ConstructorParameters<typeof ActorRunner>[1] = {}) => {
    const runner = new ActorRunner(system, options);
    runners.push(runner);
    await runner.start();
    return runner;
  };
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
  });

  it('runs a chain, with fan-out and fan-in', async () => {
    const runner = await run(new System({ pipes: [[Server, Second, Third], [Server, Other, Third]] }));
    await runner.get(Server).serve(6);
    await runner.waitUntilIdle();
    expect(await runner.get(Second).hits()).toEqual([1]);
    expect(await runner.get(Other).hits()).toEqual([1]);
    expect(await runner.get(Third).hits()).toEqual([2, 2]);
  });

  it('runs an application that follows itself, [[A, A]], to the end', async () => {
    const runner = await run(new System({ pipes: [[Solo, Solo]] }));
    await runner.get(Solo).serve(300);
    await runner.waitUntilIdle();
    expect(await runner.get(Solo).hits()).toEqual(Array.from({ length: 301 }, (_, n) => n));
  });

  it('runs a cycle, [[A, B, A]], to the end in every pipeline, on SQLite', async () => {
    const store = sqliteStore();
    await store.setUp();
    try {
      const runner = await run(new System({ pipes: [[Ping, Pong, Ping]] }), { env: store.env(), pipelineIds: [0, 1] });
      await Promise.all([runner.get(Ping, 0).serve(201), runner.get(Ping, 1).serve(101)]);
      await runner.waitUntilIdle();
      const hitsIn = async (player: Player, pipelineId: number) =>
        (await player.recorder.selectNotifications(0, 1000, { pipelineId })).map((n) => (player.mapper.toDomainEvent(n) as unknown as { n: number }).n);
      expect(await hitsIn(runner.get(Ping, 0), 0)).toEqual(Array.from({ length: 101 }, (_, i) => i * 2));
      expect(await hitsIn(runner.get(Pong, 0), 0)).toEqual(Array.from({ length: 101 }, (_, i) => i * 2 + 1));
      expect(await hitsIn(runner.get(Ping, 1), 1)).toEqual(Array.from({ length: 51 }, (_, i) => i * 2));
      expect(await hitsIn(runner.get(Pong, 1), 1)).toEqual(Array.from({ length: 51 }, (_, i) => i * 2 + 1));
    } finally {
      await Promise.all(runners.splice(0).map((runner) => runner.stop()));
      await store.tearDown();
    }
  });

  it('keeps following a leader that records in a loop that never yields to the event loop', async () => {
    const runner = await run(new System({ pipes: [[Worlds, CountersWithCommands]] }));
    const worlds = runner.get(Worlds);
    const counters = runner.get(CountersWithCommands);
    const id = await worlds.createWorld();
    let processed = 0;
    counters.onRecorded((recordings) => void (processed += recordings.length));
    let processedDuringLoop = 0;
    for (let i = 0; i < 1_000; i++) {
      await worlds.makeItSo(id, 'often'); // in memory: resolves without a turn of the event loop
      processedDuringLoop = processed;
    }
    await runner.waitUntilIdle();
    expect(await counters.getCount('often')).toBe(1_000);
    // The actors got turns while the loop ran (a Created, then an Incremented per command).
    expect(processedDuringLoop).toBeGreaterThan(500);
  });
});
