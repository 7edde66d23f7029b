// The actor runner: `ask` round trips beside direct method calls, and throughput with 1, 2 and 4
// pipelines over PostgreSQL (each pipeline an independent shard, with its own writer).
import { ActorRunner } from '../src';
import { Counters, system } from '../examples/worlds/counters';
import { WorldsApplication } from '../examples/worlds/domain';
import { fmt, latency, POSTGRES_URL, table, withSchema } from './support';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 10_000);

async function askLatency(): Promise<string[][]> {
  const runner = new ActorRunner(system, { env: { PERSISTENCE: 'memory' } });
  await runner.start();
  try {
    const worlds = runner.get(WorldsApplication);
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'dinosaurs');
    const count = 20_000;
    for (let i = 0; i < 2000; i++) await runner.ask(WorldsApplication, 'getWorldHistory', [id]); // warm up
    const direct = await latency(count, () => worlds.getWorldHistory(id));
    const asked = await latency(count, () => runner.ask(WorldsApplication, 'getWorldHistory', [id]));
    const row = (what: string, r: { median: number; p99: number }) => [what, `${fmt(r.median, 1)} µs`, `${fmt(r.p99, 1)} µs`];
    return [
      row('direct call: worlds.getWorldHistory(id)', direct),
      row("runner.ask(WorldsApplication, 'getWorldHistory', [id])", asked),
      ['ask adds (medians)', `${fmt(asked.median - direct.median, 1)} µs`, ''],
    ];
  } finally {
    await runner.stop();
  }
}

/** COMMANDS commands split over the pipelines, one sequential writer per pipeline, until processed. */
async function pipelinesThroughput(pipelines: number): Promise<number> {
  return withSchema(async (schema) => {
    const pipelineIds = Array.from({ length: pipelines }, (_, i) => i);
    const runner = new ActorRunner(system, { env: { PERSISTENCE: 'postgres', POSTGRES_URL, POSTGRES_SCHEMA: schema }, pipelineIds });
    await runner.start();
    try {
      const perPipeline = Math.floor(COMMANDS / pipelines);
      const worldsOf = await Promise.all(
        pipelineIds.map(async (pipelineId) => {
          const worlds = runner.get(WorldsApplication, pipelineId);
          const ids: string[] = [];
          for (let i = 0; i < 100 / pipelines; i++) ids.push(await worlds.createWorld());
          return { worlds, ids };
        }),
      );
      await runner.waitUntilIdle(600_000);
      const started = performance.now();
      await Promise.all(
        worldsOf.map(async ({ worlds, ids }, pipelineId) => {
          // Things of their own per pipeline, so that the shards share no Counter aggregates.
          for (let i = 0; i < perPipeline; i++) await worlds.makeItSo(ids[i % ids.length], `p${pipelineId}-thing-${i % 10}`);
        }),
      );
      await runner.waitUntilIdle(600_000);
      const rate = ((perPipeline * pipelines) / (performance.now() - started)) * 1000;
      let total = 0;
      for (const pipelineId of pipelineIds) {
        let ofPipeline = 0;
        const counters = runner.get(Counters, pipelineId);
        for (let t = 0; t < 10; t++) ofPipeline += await counters.getCount(`p${pipelineId}-thing-${t}`);
        if (ofPipeline !== perPipeline) throw new Error(`pipeline ${pipelineId} counted ${ofPipeline}, expected ${perPipeline}`);
        total += ofPipeline;
      }
      if (total !== perPipeline * pipelines) throw new Error(`${pipelines} pipelines: counted ${total}, expected ${perPipeline * pipelines}`);
      return rate;
    } finally {
      await runner.stop();
    }
  });
}

export async function actorsBenchmark(): Promise<void> {
  const asks = await askLatency();
  console.log('\nActor runner: commands as messages, in memory (median and 99th percentile of 20,000)\n');
  table(['call', 'median', '99th percentile'], asks);
  const rows: string[][] = [];
  let one = 0;
  for (const pipelines of [1, 2, 4]) {
    const rate = await pipelinesThroughput(pipelines);
    if (pipelines === 1) one = rate;
    rows.push([`${pipelines} pipeline${pipelines > 1 ? 's' : ''}`, `${fmt(rate)} cmd/s`, `${(rate / one).toFixed(2)}×`]);
  }
  console.log(`\nActor runner over PostgreSQL: ${fmt(COMMANDS)} commands split over the pipelines, one writer per pipeline\n`);
  table(['pipelines', 'throughput', 'vs 1 pipeline'], rows);
}
