// The main job: the seed system (WorldsApplication → Counters) on the ActorRunner, over the
// embedded default store (SQLite in a file). It sends commands as actor messages, waits until
// Counters has processed them all, and prints the counts and the runner's status. Run it again: it
// carries on from what the file holds (and Counters catches up on anything left unprocessed).
//
// Settings (environment): DEMO_COMMANDS (default 3000), SQLITE_DBNAME (default .data/worlds.sqlite),
// PERSISTENCE (default sqlite; memory or postgres with POSTGRES_URL work too).
import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ActorRunner, ActorRunnerStatus } from '../src';
import { Counters, system } from './worlds/counters';
import { WorldsApplication } from './worlds/domain';

const THINGS = ['dinosaurs', 'trucks', 'internet', 'volcanoes', 'jazz'];
const WORLDS = 10;

function settings(): { commands: number; env: Record<string, string>; where: string } {
  const commands = Number(process.env.DEMO_COMMANDS ?? 3000);
  if (!Number.isSafeInteger(commands) || commands < 0) {
    throw new Error(`DEMO_COMMANDS must be a whole number >= 0, got '${process.env.DEMO_COMMANDS}'`);
  }
  const persistence = process.env.PERSISTENCE ?? 'sqlite';
  if (persistence !== 'sqlite') return { commands, env: { PERSISTENCE: persistence }, where: persistence };
  const dbName = resolve(process.env.SQLITE_DBNAME ?? '.data/worlds.sqlite');
  mkdirSync(dirname(dbName), { recursive: true });
  return { commands, env: { PERSISTENCE: 'sqlite', SQLITE_DBNAME: dbName }, where: `sqlite (${dbName})` };
}

function printStatus(status: ActorRunnerStatus): void {
  const table = new Table({
    head: ['pipeline', 'process', 'state', 'upstream', 'position', 'head', 'lag', 'restarts', 'last error'],
    style: { head: [], border: [] }, // no colours: the output is also read from files and CI logs
  });
  for (const pipeline of status.pipelines) {
    for (const process of pipeline.processes) {
      for (const upstream of process.upstreams) {
        table.push([
          pipeline.pipelineId,
          process.applicationName,
          process.state,
          upstream.upstreamName,
          upstream.position ?? '?',
          upstream.head ?? '?',
          upstream.lag ?? '?',
          process.restarts,
          process.lastError?.message ?? '',
        ]);
      }
    }
  }
  console.log(table.toString());
}

async function main(): Promise<void> {
  const { commands, env, where } = settings();
  const runner = new ActorRunner(system, { env });
  await runner.start();
  try {
    const worlds = runner.get(WorldsApplication);
    const before = await worlds.recorder.maxNotificationId();
    console.log(`The seed system on the ActorRunner, over ${where}`);
    console.log(`WorldsApplication already holds ${before} events from earlier runs`);
    await runner.waitUntilIdle(); // catch up with anything an earlier run left unprocessed

    const worldIds: string[] = [];
    for (let i = 0; i < WORLDS; i++) worldIds.push(await runner.ask(WorldsApplication, 'createWorld', []));
    const bar = new SingleBar({
      format: 'commands as messages [{bar}] {value}/{total} {percentage}% {rate} cmd/s',
      noTTYOutput: true,
      notTTYSchedule: 500,
      hideCursor: true,
    });
    const started = performance.now();
    bar.start(commands, 0, { rate: 0 });
    for (let i = 0; i < commands; i++) {
      await runner.ask(WorldsApplication, 'makeItSo', [worldIds[i % WORLDS], THINGS[i % THINGS.length]]);
      if (i % 50 === 49 || i === commands - 1) {
        bar.update(i + 1, { rate: Math.round(((i + 1) / (performance.now() - started)) * 1000) });
      }
    }
    bar.stop();
    await runner.waitUntilIdle();
    const seconds = (performance.now() - started) / 1000;
    console.log(`${commands} commands sent and processed downstream in ${seconds.toFixed(2)} s`);

    console.log('Counts, over every run so far:');
    for (const thing of THINGS) console.log(`  ${thing.padEnd(10)} ${await runner.ask(Counters, 'getCount', [thing])}`);
    const history = await runner.ask(WorldsApplication, 'getWorldHistory', [worldIds[0]]);
    console.log(`World ${worldIds[0]} of this run: ${history.length} things happened`);
    console.log('Status:');
    printStatus(await runner.status());
  } finally {
    await runner.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exit(1);
});
