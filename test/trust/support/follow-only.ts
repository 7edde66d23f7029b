// Run in a fresh process: the seed's system exactly as the contract writes it (no register call),
// on a runner whose followers have a backlog written by another process and receive no command.
// Prints what Counters counted.
import { ActorRunner, MultiThreadedRunner, Runner, SingleThreadedRunner } from '../../../src';
import { Counters, system } from '../../seed-example';

async function main(): Promise<void> {
  const kind = process.argv[2];
  const runner: Runner =
    kind === 'actor' ? new ActorRunner(system) : kind === 'single' ? new SingleThreadedRunner(system) : new MultiThreadedRunner(system);
  await runner.start();
  try {
    await (runner as MultiThreadedRunner).waitUntilIdle?.(20_000);
    const counters = runner.get(Counters);
    const counts: Record<string, number> = {};
    for (const what of ['dinosaurs', 'trucks', 'internet']) counts[what] = await counters.getCount(what);
    console.log(JSON.stringify({ counts, errors: runner.errors.map((error) => error.message) }));
  } finally {
    await runner.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
