// Pluggable persistence: PERSISTENCE names a registered store (the built-in ones are registered the
// same way) or a module, by path or package name, that exports infrastructureFactory(env).
import { join, relative } from 'node:path';
import {
  ConfigurationError,
  MemoryInfrastructureFactory,
  persistenceModule,
  registerPersistence,
  registeredPersistence,
  SingleThreadedRunner,
  Environment,
} from '../../src';
import { Counters, system, WorldsApplication } from '../seed-example';
import { made } from './support/persistence/wrapped-memory-store';

const fixture = (name: string): string => join(__dirname, 'support', 'persistence', name);
const WRAPPED = fixture('wrapped-memory-store.ts');

describe('a persistence module named by PERSISTENCE', () => {
  beforeEach(() => {
    made.length = 0;
  });

  it('makes the application’s factory with the module’s infrastructureFactory(env), given its absolute path', async () => {
    const app = new WorldsApplication({ env: { PERSISTENCE: WRAPPED, WORLDSAPPLICATION_WRAPPED_LABEL: 'blue' } });
    const id = await app.createWorld();
    await app.makeItSo(id, 'dinosaurs');
    expect((await app.getWorldHistory(id))).toEqual(['dinosaurs']);
    expect(made).toEqual([{ applicationName: 'WorldsApplication', label: 'blue', recorders: ['application'], closed: false }]);
    await app.close();
    expect(made[0].closed).toBe(true);
  });

  it('takes a path relative to the working directory', () => {
    const path = `./${relative(process.cwd(), WRAPPED)}`;
    const app = new WorldsApplication({ env: { PERSISTENCE: path } });
    expect(persistenceModule(app.env)).toBe(path);
    expect(made.map((m) => m.applicationName)).toEqual(['WorldsApplication']);
  });

  it('runs a system: a process application gets its process recorder from the module', async () => {
    const runner = new SingleThreadedRunner(system, { env: { PERSISTENCE: WRAPPED } });
    await runner.start();
    try {
      const worlds = runner.get(WorldsApplication);
      await worlds.makeItSo(await worlds.createWorld(), 'trucks');
      expect(await runner.get(Counters).getCount('trucks')).toBe(1);
    } finally {
      await runner.stop();
    }
    expect(made.map((m) => [m.applicationName, m.recorders])).toEqual([
      ['WorldsApplication', ['application']],
      ['Counters', ['process']],
    ]);
    expect(made.every((m) => m.closed)).toBe(true);
  });

  it('refuses a module that cannot be found, naming the setting, the registered names and the working directory', () => {
    const make = () => new WorldsApplication({ env: { WORLDSAPPLICATION_PERSISTENCE: './no/such/store.js' } });
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(
      `WORLDSAPPLICATION_PERSISTENCE='./no/such/store.js' is neither a registered persistence module (memory, sqlite, postgres) ` +
        `nor a module that can be found from ${process.cwd()}`,
    );
    expect(() => new WorldsApplication({ env: { PERSISTENCE: 'eventsourcing-nact-no-such-store' } })).toThrow(
      /^PERSISTENCE='eventsourcing-nact-no-such-store' is neither a registered persistence module/,
    );
  });

  it('refuses a module that fails to load, naming it and what it lacks', () => {
    const path = fixture('broken-dependency.js');
    expect(() => new WorldsApplication({ env: { PERSISTENCE: path } })).toThrow(
      `PERSISTENCE='${path}': loading the persistence module ${path} failed: Cannot find module 'eventsourcing-nact-test-no-such-driver'`,
    );
  });

  it('refuses a module without an infrastructureFactory export, listing what it exports', () => {
    const path = fixture('exports-no-factory.ts');
    expect(() => new WorldsApplication({ env: { PERSISTENCE: path } })).toThrow(
      `PERSISTENCE='${path}': the module ${path} exports no infrastructureFactory (it exports infrastructure, makeStore); ` +
        'a persistence module exports infrastructureFactory(env): InfrastructureFactory',
    );
    const defaultExport = fixture('exports-default.ts');
    expect(() => new WorldsApplication({ env: { PERSISTENCE: defaultExport } })).toThrow(
      /exports no infrastructureFactory \(it exports default\): export it by name, not as a default export/,
    );
  });

  it('refuses an infrastructureFactory that is not a function', () => {
    const path = fixture('factory-not-a-function.ts');
    expect(() => new WorldsApplication({ env: { PERSISTENCE: path } })).toThrow(
      `PERSISTENCE='${path}': the infrastructureFactory that ${path} exports is an object (Object), not a function (env) => InfrastructureFactory`,
    );
  });

  it('refuses what infrastructureFactory returns when it is not an InfrastructureFactory, naming what it lacks', () => {
    const path = fixture('returns-no-factory.ts');
    expect(() => new WorldsApplication({ env: { PERSISTENCE: path } })).toThrow(
      `PERSISTENCE='${path}': infrastructureFactory(env) returned an object (Object), not an InfrastructureFactory ` +
        '(it lacks aggregateRecorder, processRecorder)',
    );
  });
});

describe('registerPersistence', () => {
  it('makes a name a value of PERSISTENCE, compared without regard to case, as the built-in stores are', () => {
    const envs: string[] = [];
    registerPersistence('Scratch', (env: Environment) => {
      envs.push(env.applicationName);
      return new MemoryInfrastructureFactory({ applicationName: env.applicationName });
    });
    expect(registeredPersistence()).toEqual(['memory', 'sqlite', 'postgres', 'scratch']);
    const app = new WorldsApplication({ env: { PERSISTENCE: 'SCRATCH' } });
    expect(persistenceModule(app.env)).toBe('scratch');
    expect(app.factory).toBeInstanceOf(MemoryInfrastructureFactory);
    expect(envs).toEqual(['WorldsApplication']);
    expect(persistenceModule(new WorldsApplication({ env: { PERSISTENCE: 'SQLite', SQLITE_DBNAME: ':memory:' } }).env)).toBe('sqlite');
  });

  it('refuses a name registered already, a name that is not a word, and a maker that is not a function', () => {
    expect(() => registerPersistence('sqlite', () => new MemoryInfrastructureFactory())).toThrow(
      "a persistence module named 'sqlite' is registered already",
    );
    expect(() => registerPersistence('./store', () => new MemoryInfrastructureFactory())).toThrow(
      "a persistence module's name must be a word of letters, digits, '-' and '_' (starting with a letter), got './store'",
    );
    expect(() => registerPersistence('other', 'memory' as never)).toThrow(
      "registerPersistence('other', ...) takes a function (env) => InfrastructureFactory, got the string 'memory'",
    );
  });
});
