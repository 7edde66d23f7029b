// Prints the benchmark figures. Usage: npm run bench [-- core|system|actors|growth|load|multiprocess|cluster|tracing|projection ...]
// Each suite is loaded only when it runs. The cluster suite runs the contract's system (test/seed-example),
// whose classes share topics with the examples' (examples/worlds) that the others run, so beside
// others it runs in a process of its own.
import { spawnSync } from 'node:child_process';

const suites: Record<string, () => Promise<() => Promise<void>>> = {
  core: async () => (await import('./core')).coreBenchmark,
  system: async () => (await import('./system')).systemBenchmark,
  actors: async () => (await import('./actors')).actorsBenchmark,
  growth: async () => (await import('./system')).growthBenchmark,
  load: async () => (await import('./load')).loadBenchmark,
  multiprocess: async () => (await import('./multiprocess')).multiprocessBenchmark,
  cluster: async () => (await import('./cluster')).clusterBenchmark,
  tracing: async () => (await import('./tracing')).tracingBenchmark,
  projection: async () => (await import('./projection')).projectionBenchmark,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const name of names) {
    if (!(name in suites)) throw new Error(`unknown benchmark '${name}': choose from ${Object.keys(suites).join(', ')}`);
  }
  console.log(`node ${process.version}, ${new Date().toISOString()}`);
  const chosen = names.length ? names : Object.keys(suites);
  for (const name of chosen) {
    if (name === 'cluster' && chosen.length > 1) {
      const child = spawnSync(process.execPath, [...process.execArgv, __filename, 'cluster'], { stdio: 'inherit' });
      if (child.status !== 0) throw new Error(`the cluster benchmark failed (exit ${child.status})`);
      continue;
    }
    await (await suites[name]())();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
