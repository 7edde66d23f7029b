// Prints, as one JSON line, which database drivers this process has loaded: after importing the
// package's root, then after making an application on each store named in the arguments (memory,
// sqlite, postgres). A store that cannot be made is reported with its error's message.
import { Application } from '../../../src';

const DRIVERS = /[\\/]node_modules[\\/](pg|pg-pool|better-sqlite3)[\\/]/;

function loadedDrivers(): string[] {
  const found = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    const match = DRIVERS.exec(file);
    if (match !== null) found.add(match[1]);
  }
  return [...found].sort();
}

class Probe extends Application {}

async function main(): Promise<void> {
  const report: Record<string, unknown> = { root: loadedDrivers() };
  for (const store of process.argv.slice(2)) {
    try {
      const app = new Probe({ env: { PERSISTENCE: store, SQLITE_DBNAME: ':memory:', POSTGRES_CONNECT_TIMEOUT_MS: '1000' } });
      await app.close();
      report[store] = loadedDrivers();
    } catch (error) {
      report[store] = { error: (error as Error).name, message: (error as Error).message };
    }
  }
  console.log(JSON.stringify(report));
}

void main();
