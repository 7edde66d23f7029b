// A process that runs the worlds' stats projection (made slow by slow-stats-system.ts) until it
// has caught up, then exits 0; the crash test kills it with SIGKILL on the way.
import { SingleThreadedRunner } from '../../src';
import { system } from './slow-stats-system';

async function main(): Promise<void> {
  const runner = new SingleThreadedRunner(system, { env: { ...process.env } as Record<string, string> });
  await runner.start();
  await runner.waitUntilIdle(120_000);
  await runner.stop();
  console.log('idle');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
