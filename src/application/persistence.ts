import { isAbsolute } from 'node:path';
import {
  AesGcmCipher,
  ConfigurationError,
  InfrastructureFactory,
  JSONTranscoder,
  Mapper,
  MemoryInfrastructureFactory,
  PostgresInfrastructureFactory,
  SqliteInfrastructureFactory,
  ZlibCompressor,
} from '../persistence';
import { isModuleNotFound } from '../persistence/peers';
import type { Environment } from './environment';

/**
 * What a persistence module provides: the infrastructure factory of one application, made from the
 * application's settings (`env.applicationName` names its tables; `env.get`, `env.require`,
 * `env.integer`, ... read its settings, prefixed or not). Called once per application instance,
 * synchronously (applications are constructed synchronously).
 */
export type InfrastructureFactoryMaker = (env: Environment) => InfrastructureFactory;

/** The names PERSISTENCE takes for the stores this package brings. */
export const PERSISTENCE_MODULES = ['memory', 'sqlite', 'postgres'] as const;
export type PersistenceModule = (typeof PERSISTENCE_MODULES)[number];

const DEFAULT_PERSISTENCE: PersistenceModule = 'memory';

/** Persistence modules by name (lower case): the built-in ones and those registered by the program. */
const registered = new Map<string, InfrastructureFactoryMaker>();

/**
 * Makes `name` a value of PERSISTENCE (compared without regard to case): applications whose
 * settings select it get their infrastructure factory from `infrastructureFactory(env)`. The
 * built-in stores are registered this way. A name is a word (letters, digits, `-`, `_`), so that
 * it can never be taken for a module's path or package name; registering a name twice is an error.
 */
export function registerPersistence(name: string, infrastructureFactory: InfrastructureFactoryMaker): void {
  if (typeof name !== 'string' || !/^[A-Za-z][\w-]*$/.test(name)) {
    throw new ConfigurationError(
      `a persistence module's name must be a word of letters, digits, '-' and '_' (starting with a letter), got '${String(name)}'`,
    );
  }
  if (typeof infrastructureFactory !== 'function') {
    throw new ConfigurationError(
      `registerPersistence('${name}', ...) takes a function (env) => InfrastructureFactory, got ${describe(infrastructureFactory)}`,
    );
  }
  const key = name.toLowerCase();
  if (registered.has(key)) throw new ConfigurationError(`a persistence module named '${key}' is registered already`);
  registered.set(key, infrastructureFactory);
}

/** The names of the registered persistence modules (the built-in ones first). */
export function registeredPersistence(): string[] {
  return [...registered.keys()];
}

// The built-in stores. The SQLite and PostgreSQL factories load their drivers (optional peer
// dependencies) when they are made, so a program loads only the driver its settings select.
registerPersistence('memory', (env) => new MemoryInfrastructureFactory({ applicationName: env.applicationName }));
registerPersistence(
  'sqlite',
  (env) =>
    new SqliteInfrastructureFactory({
      applicationName: env.applicationName,
      dbName: env.require('SQLITE_DBNAME', 'when PERSISTENCE=sqlite (a file path, or :memory:)'),
      synchronous: env.choice('SQLITE_SYNCHRONOUS', ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const, 'NORMAL'),
      busyTimeoutMs: env.integer('SQLITE_BUSY_TIMEOUT_MS', 0),
    }),
);
registerPersistence(
  'postgres',
  (env) =>
    new PostgresInfrastructureFactory({
      applicationName: env.applicationName,
      connectionString: env.get('POSTGRES_URL'),
      schema: env.get('POSTGRES_SCHEMA'),
      poolSize: env.integer('POSTGRES_POOL_SIZE', 1),
      logPoolSize: env.integer('POSTGRES_LOG_POOL_SIZE', 1),
      ordering: env.choice('POSTGRES_ORDERING', ['watermark', 'lock'] as const, 'watermark'),
      connectTimeoutMs: env.integer('POSTGRES_CONNECT_TIMEOUT_MS', 1),
    }),
);

/**
 * The persistence module an application's environment selects (PERSISTENCE, default memory): a
 * registered name, in lower case, or else the module specifier as given.
 */
export function persistenceModule(env: Environment): string {
  const selected = env.get('PERSISTENCE') ?? DEFAULT_PERSISTENCE;
  return registered.has(selected.toLowerCase()) ? selected.toLowerCase() : selected;
}

/**
 * Makes the infrastructure factory that PERSISTENCE and its module's settings describe. PERSISTENCE
 * is a registered name (memory, sqlite, postgres, or one given to registerPersistence) or else a
 * module, a path (absolute, or relative to the working directory) or a package name, loaded with
 * `require`, that exports `infrastructureFactory(env)`. Each failure is a ConfigurationError that
 * names the setting and the module.
 */
export function createInfrastructure(env: Environment): InfrastructureFactory {
  const selected = persistenceModule(env);
  const maker = registered.get(selected) ?? loadPersistenceModule(env, selected);
  const factory = maker(env);
  checkInfrastructureFactory(factory, () => `${setting(env, selected)}: infrastructureFactory(env)`);
  return factory;
}

/** `PERSISTENCE='x'`, under the key that supplied it (a prefixed key, perhaps). */
function setting(env: Environment, value: string): string {
  return `${env.source('PERSISTENCE') ?? 'PERSISTENCE'}='${value}'`;
}

/** The infrastructureFactory of the module that `specifier` names, loaded with require. */
function loadPersistenceModule(env: Environment, specifier: string): InfrastructureFactoryMaker {
  const where = setting(env, specifier);
  const relative = specifier.startsWith('./') || specifier.startsWith('../');
  let resolved: string;
  try {
    // Relative paths are the working directory's; packages are looked for from there, then from here.
    resolved = require.resolve(specifier, { paths: relative || isAbsolute(specifier) ? [process.cwd()] : [process.cwd(), __dirname] });
  } catch (error) {
    if (!isModuleNotFound(error, specifier)) throw error;
    throw new ConfigurationError(
      `${where} is neither a registered persistence module (${registeredPersistence().join(', ')}) ` +
        `nor a module that can be found from ${process.cwd()} (a path, or a package that exports infrastructureFactory(env))`,
      { cause: error },
    );
  }
  let loaded: unknown;
  try {
    loaded = require(resolved);
  } catch (error) {
    throw new ConfigurationError(`${where}: loading the persistence module ${resolved} failed: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
  const exported = (loaded as { infrastructureFactory?: unknown } | null)?.infrastructureFactory;
  if (exported === undefined) {
    const names = loaded !== null && typeof loaded === 'object' ? Object.keys(loaded) : [];
    const hint = names.includes('default') ? ': export it by name, not as a default export' : '';
    throw new ConfigurationError(
      `${where}: the module ${resolved} exports no infrastructureFactory (it exports ${names.join(', ') || 'nothing'})${hint}; ` +
        `a persistence module exports infrastructureFactory(env): InfrastructureFactory`,
    );
  }
  if (typeof exported !== 'function') {
    throw new ConfigurationError(
      `${where}: the infrastructureFactory that ${resolved} exports is ${describe(exported)}, not a function (env) => InfrastructureFactory`,
    );
  }
  return exported as InfrastructureFactoryMaker;
}

const FACTORY_METHODS = ['aggregateRecorder', 'applicationRecorder', 'processRecorder', 'close'] as const;

/** Refuses what is not an InfrastructureFactory, naming what it lacks. */
function checkInfrastructureFactory(factory: unknown, what: () => string): asserts factory is InfrastructureFactory {
  const lacking =
    factory === null || typeof factory !== 'object'
      ? FACTORY_METHODS
      : FACTORY_METHODS.filter((method) => typeof (factory as Record<string, unknown>)[method] !== 'function');
  if (lacking.length > 0) {
    throw new ConfigurationError(`${what()} returned ${describe(factory)}, not an InfrastructureFactory (it lacks ${lacking.join(', ')})`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  if (typeof value === 'string') return `the string '${value}'`;
  return `${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}`;
}

/** The mapper an environment describes: COMPRESSOR=zlib compresses, CIPHER_KEY encrypts. */
export function createMapper(env: Environment, transcoder: JSONTranscoder): Mapper {
  const compressor = env.choice('COMPRESSOR', ['none', 'zlib'] as const, 'none') === 'zlib' ? new ZlibCompressor() : undefined;
  const key = env.get('CIPHER_KEY');
  const cipher = key === undefined ? undefined : new AesGcmCipher(key, env.source('CIPHER_KEY'));
  return new Mapper({ transcoder, compressor, cipher, applicationName: env.applicationName });
}
