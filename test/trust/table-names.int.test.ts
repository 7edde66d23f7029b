// No application reaches another's tables: names that differ only by case are refused (by System,
// and by the factories of one database, across processes, since the owner is recorded in the
// database), and recorder purposes are a closed set.
import {
  ConfigurationError,
  InfrastructureFactory,
  MemoryInfrastructureFactory,
  PostgresInfrastructureFactory,
  SqliteInfrastructureFactory,
  System,
  SystemDefinitionError,
} from '../../src';
import { Counters, WorldsApplication } from '../seed-example';
import { ALL_STORES, postgresStore, sqliteStore, TEST_POSTGRES_URL } from '../support/stores';

class WORLDSAPPLICATION extends WorldsApplication {}
class COUNTERS extends Counters {}

describe('a System', () => {
  it('refuses two applications whose names differ only by case', () => {
    expect(() => new System({ pipes: [[WorldsApplication, Counters], [WorldsApplication, COUNTERS]] })).toThrow(SystemDefinitionError);
    expect(() => new System({ pipes: [[WorldsApplication, Counters], [WorldsApplication, COUNTERS]] })).toThrow(
      'applications Counters and COUNTERS would share tables (counters_events, ...): their names differ only by case; give one of them another name',
    );
    expect(() => new System({ pipes: [[WORLDSAPPLICATION, Counters], [WorldsApplication, Counters]] })).toThrow(/WORLDSAPPLICATION and WorldsApplication would share tables/);
  });
});

describe.each([
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('applications over one %s database', (_name, makeStore) => {
  const store = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('refuses the second of two applications whose names differ only by case, naming the owner', async () => {
    const first = new WorldsApplication({ env: store.env() });
    const id = await first.createWorld();
    const where = store.name === 'sqlite' ? `SQLite database '${store.env().SQLITE_DBNAME}'` : `PostgreSQL schema '${store.env().POSTGRES_SCHEMA}'`;
    const message = `${where} holds the tables of application 'WorldsApplication' (worldsapplication_events, ...): application 'WORLDSAPPLICATION' would share them`;
    // SQLite refuses when the factory opens; PostgreSQL at first use (it connects lazily).
    const open = async () => {
      const second = new WORLDSAPPLICATION({ env: store.env() });
      try {
        await second.getWorldHistory(id);
      } finally {
        await second.close();
      }
    };
    await expect(open()).rejects.toThrow(ConfigurationError);
    await expect(open()).rejects.toThrow(message);
    await first.close();
    // The owner is recorded in the database: a later process is refused as well, the owner is not.
    await expect(open()).rejects.toThrow(message);
    const again = new WorldsApplication({ env: store.env() });
    expect(await again.getWorldHistory(id)).toEqual([]);
    await again.close();
  });
});

describe.each(ALL_STORES.map((make) => [make().name, make] as const))('aggregate recorder purposes on %s', (_name, makeStore) => {
  const store = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  const factoryFor = (applicationName: string): InfrastructureFactory => {
    const env = store.env();
    if (store.name === 'memory') return new MemoryInfrastructureFactory({ applicationName });
    if (store.name === 'sqlite') return new SqliteInfrastructureFactory({ applicationName, dbName: env.SQLITE_DBNAME });
    return new PostgresInfrastructureFactory({ applicationName, connectionString: TEST_POSTGRES_URL, schema: env.POSTGRES_SCHEMA });
  };

  it('are a closed set: no purpose opens another application’s table', async () => {
    const factory = factoryFor('A');
    try {
      for (const purpose of ['b_events', 'b_tracking', 'events', 'tracking', 'Snapshots', 'x']) {
        expect(() => factory.aggregateRecorder(purpose)).toThrow(ConfigurationError);
        expect(() => factory.aggregateRecorder(purpose)).toThrow(`aggregate recorder purpose '${purpose}' is not allowed for A: the purposes are snapshots`);
      }
      expect(factory.aggregateRecorder('snapshots')).toBeDefined();
    } finally {
      await factory.close();
    }
  });
});
