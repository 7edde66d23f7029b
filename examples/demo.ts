// The main job, for now: the World application on the embedded default store (SQLite in a file).
// Run it twice: the second run finds the first run's worlds in the file and carries on.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { WorldsApplication } from './worlds/domain';

const THINGS = ['dinosaurs', 'trucks', 'internet', 'volcanoes', 'jazz'];

async function main(): Promise<void> {
  const dbName = resolve(process.env.SQLITE_DBNAME ?? '.data/worlds.sqlite');
  mkdirSync(dirname(dbName), { recursive: true });
  const env = { PERSISTENCE: process.env.PERSISTENCE ?? 'sqlite', SQLITE_DBNAME: dbName };
  const app = new WorldsApplication({ env });
  try {
    const before = await app.recorder.maxNotificationId();
    console.log(`WorldsApplication on ${env.PERSISTENCE} (${dbName})`);
    console.log(`the store already holds ${before} events from earlier runs`);

    const started = process.hrtime.bigint();
    const worldIds: string[] = [];
    for (let i = 0; i < 3; i++) worldIds.push(await app.createWorld());
    let commands = 0;
    for (let round = 0; round < 100; round++) {
      for (const [index, worldId] of worldIds.entries()) {
        await app.makeItSo(worldId, THINGS[(round + index) % THINGS.length]);
        commands += 1;
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`created ${worldIds.length} worlds and made ${commands} things so in ${seconds.toFixed(2)} s`);

    for (const worldId of worldIds) {
      const history = await app.getWorldHistory(worldId);
      const counts = new Map<string, number>();
      for (const what of history) counts.set(what, (counts.get(what) ?? 0) + 1);
      const summary = [...counts].map(([what, count]) => `${what}×${count}`).join(', ');
      console.log(`world ${worldId}: ${history.length} things happened (${summary})`);
    }

    const after = await app.recorder.maxNotificationId();
    const latest = await app.notificationLog.select(Math.max(after - 2, 1), 3);
    console.log(`notification log: ${after} events in all; the last ones:`);
    for (const notification of latest) {
      console.log(`  #${notification.id} ${notification.topic} v${notification.originatorVersion} of ${notification.originatorId}`);
    }
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exit(1);
});
