// Run in a child process by stop.int.test.ts: starts an ActorRunner on the store that the
// environment selects, works it (prompts, ticks, a process backing off for an hour, commands as
// messages), stops it, and must then exit by itself: nothing of the runner may hold the event loop.
import { ActorRunner, System } from '../../../src';
import { World } from '../../seed-example';
import { CountersWithCommands, failingCounters, processIn, statusWhen, Worlds } from './systems';

const StuckCounters = failingCounters('StuckCounters', (event) => event instanceof World.SomethingHappened && event.what === 'stuck');

async function main(): Promise<void> {
  const runner = new ActorRunner(new System({ pipes: [[Worlds, CountersWithCommands], [Worlds, StuckCounters]] }), {
    pipelineIds: [0, 1],
    pollIntervalMs: 10,
    supervision: { minBackoffMs: 3_600_000 },
  });
  await runner.start();
  const id = await runner.ask(Worlds, 'createWorld', []);
  await runner.ask(Worlds, 'makeItSo', [id, 'dinosaurs']);
  await runner.ask(Worlds, 'makeItSo', [id, 'stuck']);
  const status = await statusWhen(
    runner,
    (s) => processIn(s, 'StuckCounters').state === 'backing-off' && processIn(s, 'CountersWithCommands').lag === 0,
  );
  const count = await runner.ask(CountersWithCommands, 'getCount', ['dinosaurs']);
  await runner.stop();
  process.stdout.write(`${JSON.stringify({ count, stuck: processIn(status, 'StuckCounters').state })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
