// Prints the benchmark figures. Usage: npm run bench [-- core|system|actors|growth|load|multiprocess|tracing ...]
import { coreBenchmark } from './core';
import { actorsBenchmark } from './actors';
import { loadBenchmark } from './load';
import { multiprocessBenchmark } from './multiprocess';
import { growthBenchmark, systemBenchmark } from './system';
import { tracingBenchmark } from './tracing';

const suites: Record<string, () => Promise<void>> = {
  core: coreBenchmark,
  system: systemBenchmark,
  actors: actorsBenchmark,
  growth: growthBenchmark,
  load: loadBenchmark,
  multiprocess: multiprocessBenchmark,
  tracing: tracingBenchmark,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const name of names) {
    if (!(name in suites)) throw new Error(`unknown benchmark '${name}': choose from ${Object.keys(suites).join(', ')}`);
  }
  console.log(`node ${process.version}, ${new Date().toISOString()}`);
  for (const name of names.length ? names : Object.keys(suites)) await suites[name]();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
