// Pipelines partition the work: what enters through pipeline p is processed in pipeline p only,
// with positions of its own; pipelines run side by side, in one runner or spread over several.
import { ActorRunner, System } from '../../src';
import { postgresStore, sqliteStore, StoreSetup } from '../support/stores';
import { caughtUp, CountersWithCommands, inLanes, processIn, tally, Worlds } from './support/systems';

const PIPELINES = [0, 1, 2, 3];
const system = new System({ pipes: [[Worlds, CountersWithCommands]] });

/** Pipeline p gets 50 + 10p commands: its own `shard-p` counter, and the shared `everywhere` one. */
const commandsIn = (pipelineId: number) => 50 + 10 * pipelineId;

async function runShards(runnerFor: (pipelineId: number) => ActorRunner): Promise<void> {
  await Promise.all(
    PIPELINES.map(async (pipelineId) => {
      const worlds = runnerFor(pipelineId).get(Worlds, pipelineId);
      const ids = [await worlds.createWorld(), await worlds.createWorld()];
      await inLanes(commandsIn(pipelineId), 2, async (index, lane) => {
        await worlds.makeItSo(ids[lane], index % 5 === 0 ? 'everywhere' : `shard-${pipelineId}`);
      });
    }),
  );
}

async function checkShards(runnerFor: (pipelineId: number) => ActorRunner): Promise<void> {
  let everywhere = 0;
  for (const pipelineId of PIPELINES) {
    const runner = runnerFor(pipelineId);
    const worlds = runner.get(Worlds, pipelineId);
    const counters = runner.get(CountersWithCommands, pipelineId);
    const shared = Math.ceil(commandsIn(pipelineId) / 5);
    everywhere += shared;
    expect(await counters.getCount(`shard-${pipelineId}`)).toBe(commandsIn(pipelineId) - shared);
    // Exactly the pipeline's own events, each processed once, in the pipeline's own log.
    const { happened, incremented, counted, expected } = await tally(worlds, counters, pipelineId);
    expect(happened).toBe(commandsIn(pipelineId));
    expect(incremented).toBe(commandsIn(pipelineId));
    expect(counted).toEqual(expected);
    // Positions are per pipeline.
    expect(await counters.trackingPosition('Worlds', pipelineId)).toBe(await worlds.recorder.maxNotificationId(pipelineId));
    expect(processIn(await runner.status(), 'CountersWithCommands', pipelineId)).toMatchObject({ state: caughtUp(), lag: 0 });
  }
  // The counter all pipelines share (one aggregate in one table) counts every pipeline's events.
  expect(await runnerFor(0).get(CountersWithCommands, 0).getCount('everywhere')).toBe(everywhere);
}

describe.each([
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('four pipelines over %s', (_name, makeStore) => {
  const store: StoreSetup = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('process independent shards in one runner, with exact per-pipeline totals', async () => {
    const runner = new ActorRunner(system, { env: { ...store.env(), POSTGRES_POOL_SIZE: '2' }, pipelineIds: PIPELINES, pollIntervalMs: 100 });
    await runner.start();
    try {
      await runShards(() => runner);
      await runner.waitUntilIdle(30_000);
      await checkShards(() => runner);
      const status = await runner.status();
      expect(status.pipelines.map((pipeline) => pipeline.pipelineId)).toEqual(PIPELINES);
      expect(() => runner.get(Worlds, 4)).toThrow('pipeline 4 is not run by this runner (it runs: 0, 1, 2, 3)');
    } finally {
      await runner.stop();
    }
  });
});

describe('pipelines shared out between runners over one PostgreSQL database', () => {
  const store = postgresStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('each runner processes only its own pipelines, and together they process all', async () => {
    const env = { ...store.env(), POSTGRES_POOL_SIZE: '2' };
    const low = new ActorRunner(system, { env, pipelineIds: [0, 1] });
    const high = new ActorRunner(system, { env, pipelineIds: [2, 3] });
    await low.start();
    await high.start();
    const runnerFor = (pipelineId: number) => (pipelineId < 2 ? low : high);
    try {
      expect(low.get(Worlds)).toBe(low.get(Worlds, 0));
      expect(high.get(Worlds)).toBe(high.get(Worlds, 2)); // the default pipeline is the runner's first
      await runShards(runnerFor);
      await Promise.all([low.waitUntilIdle(30_000), high.waitUntilIdle(30_000)]);
      await checkShards(runnerFor);
      expect((await low.status()).pipelines.map((pipeline) => pipeline.pipelineId)).toEqual([0, 1]);
    } finally {
      await Promise.all([low.stop(), high.stop()]);
    }
  });

  it('leaves the pipelines it does not run alone', async () => {
    const env = store.env();
    const runner = new ActorRunner(system, { env, pipelineIds: [1] });
    await runner.start();
    const worlds = new Worlds({ env, pipelineId: 0 }); // pipeline 0 is nobody's here
    try {
      await worlds.makeItSo(await worlds.createWorld(), 'unseen');
      const other = runner.get(Worlds, 1);
      await other.makeItSo(await other.createWorld(), 'seen');
      await runner.waitUntilIdle();
      const counters = runner.get(CountersWithCommands, 1);
      expect(await counters.getCount('seen')).toBe(1);
      expect(await counters.getCount('unseen')).toBe(0);
      expect(await counters.trackingPosition('Worlds', 0)).toBe(0);
    } finally {
      await worlds.close();
      await runner.stop();
    }
  });
});
