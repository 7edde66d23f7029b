// Run in a process of its own: records commands through the seed's WorldsApplication alone, with
// nothing following it, into the store the environment selects.
import { WorldsApplication } from '../../seed-example';

async function main(): Promise<void> {
  const worlds = new WorldsApplication();
  const ids = [await worlds.createWorld(), await worlds.createWorld()];
  for (let i = 0; i < 30; i++) await worlds.makeItSo(ids[i % 2], ['dinosaurs', 'trucks', 'internet'][i % 3]);
  await worlds.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
