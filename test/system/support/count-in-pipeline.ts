// Run in a process of its own: the seed system on an ActorRunner that runs one pipeline only, over
// the store the environment selects. It records COMMANDS commands in its pipeline and waits until
// Counters has processed them. Another such process runs another pipeline over the same store at
// the same time: both increment the same Counter aggregates, so each one's cache goes stale.
import { ActorRunner } from '../../../src';
import { Counters, system, WorldsApplication } from '../../seed-example';

async function main(): Promise<void> {
  const pipelineId = Number(process.argv[2]);
  const commands = Number(process.argv[3]);
  const runner = new ActorRunner(system, { pipelineIds: [pipelineId], supervision: { minBackoffMs: 1, maxBackoffMs: 20 } });
  await runner.start();
  try {
    const counters = runner.get(Counters, pipelineId);
    // Counts the reads of Counter events: the fast-forward reads a cached aggregate would need.
    let reads = 0;
    const recorder = counters.recorder;
    const selectEvents = recorder.selectEvents.bind(recorder);
    recorder.selectEvents = (id, options) => {
      reads += 1;
      return selectEvents(id, options);
    };
    const worlds = runner.get(WorldsApplication, pipelineId);
    const ids = [await worlds.createWorld(), await worlds.createWorld()];
    for (let i = 0; i < commands; i++) await worlds.makeItSo(ids[i % 2], `thing-${i % 5}`);
    await runner.waitUntilIdle(60_000);
    console.log(JSON.stringify({ reads, restarts: (await runner.status()).pipelines[0].processes[0].restarts }));
  } finally {
    await runner.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
