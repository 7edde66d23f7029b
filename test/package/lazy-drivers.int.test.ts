// The database drivers are optional peer dependencies: the package's root loads neither, an
// application loads only the one its PERSISTENCE selects, and a driver that is not installed is an
// error naming the package to install. Each case runs in a fresh process, whose module cache tells.
import { join } from 'node:path';
import { runScript } from '../support/child';

const PROBE = join(__dirname, 'support', 'loaded-drivers.ts');
const HIDE_DRIVERS = join(__dirname, 'support', 'hide-drivers.js');

async function probe(stores: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const { code, stdout, stderr } = await runScript(PROBE, stores, env);
  if (code !== 0) throw new Error(`the probe exited with ${code}: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('database drivers', () => {
  it('are not loaded by importing the package root, nor by an application in memory', async () => {
    expect(await probe(['memory'])).toEqual({ root: [], memory: [] });
  });

  it('are loaded one at a time, when PERSISTENCE selects them', async () => {
    expect(await probe(['sqlite', 'postgres'])).toEqual({ root: [], sqlite: ['better-sqlite3'], postgres: ['better-sqlite3', 'pg', 'pg-pool'] });
  });

  it('when not installed, are a ConfigurationError naming the package to install; memory needs neither', async () => {
    const report = await probe(['memory', 'sqlite', 'postgres'], { NODE_OPTIONS: `--require ${HIDE_DRIVERS}` });
    expect(report).toEqual({
      root: [],
      memory: [],
      sqlite: {
        error: 'ConfigurationError',
        message: "SQLite persistence (PERSISTENCE=sqlite, SqliteInfrastructureFactory) needs the package 'better-sqlite3', which is not installed: npm install better-sqlite3",
      },
      postgres: {
        error: 'ConfigurationError',
        message: "PostgreSQL persistence (PERSISTENCE=postgres, PostgresInfrastructureFactory) needs the package 'pg', which is not installed: npm install pg",
      },
    });
  });
});
