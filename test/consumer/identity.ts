// Run in a consumer of the packed package (see check.sh): prints, as JSON, whether `import` and
// `require` reach one copy of the code, whether the subpaths' classes are the root's, and what
// making an application on SQLite and on PostgreSQL does (opens, or names the driver to install).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as root from 'eventsourcing-nact';
import * as actors from 'eventsourcing-nact/actors';
import * as postgres from 'eventsourcing-nact/postgres';
import * as sqlite from 'eventsourcing-nact/sqlite';
import * as testing from 'eventsourcing-nact/testing';

const required = createRequire(join(process.cwd(), 'package.json'))('eventsourcing-nact') as typeof root;

class Probe extends root.Application {}

function attempt(env: Record<string, string>): string {
  try {
    void new Probe({ env }).close();
    return 'opened';
  } catch (error) {
    return (error as Error).message;
  }
}

console.log(
  JSON.stringify({
    requireIsImport: required.Application === root.Application && required.registerPersistence === root.registerPersistence,
    subpathsAreRoot:
      sqlite.SqliteInfrastructureFactory === root.SqliteInfrastructureFactory &&
      postgres.PostgresInfrastructureFactory === root.PostgresInfrastructureFactory &&
      actors.ActorRunner === root.ActorRunner,
    testing: typeof testing.aggregateSpecification === 'function' && typeof testing.withRunner === 'function',
    sqlite: attempt({ PERSISTENCE: 'sqlite', SQLITE_DBNAME: ':memory:' }),
    postgres: attempt({ PERSISTENCE: 'postgres', POSTGRES_URL: 'postgres://127.0.0.1:1/none' }),
  }),
);
