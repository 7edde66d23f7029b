// Run in a process of its own: a MultiprocessRunner (or, given "ActorRunner ...", an ActorRunner
// with process slaves) over SQLite (SQLITE_DBNAME) that prints its workers' pids as one JSON line,
// then runs until it is killed (the test kills it with SIGKILL).
import { join } from 'node:path';
import { ActorRunner, MultiprocessRunner } from '../../../src';
import { system } from '../../seed-example';

async function main(): Promise<void> {
  const options = { pipelineIds: [0, 1], systemModule: { path: join(__dirname, '..', '..', 'seed-example.ts') } };
  const runner = process.argv[2]?.startsWith('ActorRunner')
    ? new ActorRunner(system, { ...options, slaves: 'process' })
    : new MultiprocessRunner(system, { ...options, isolation: 'process' });
  await runner.start();
  const status = await runner.status();
  console.log(JSON.stringify(status.pipelines.flatMap((pipeline) => pipeline.processes.map((process) => process.pid))));
  setInterval(() => undefined, 1000);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
