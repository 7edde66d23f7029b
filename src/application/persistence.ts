import {
  AesGcmCipher,
  InfrastructureFactory,
  JSONTranscoder,
  Mapper,
  MemoryInfrastructureFactory,
  PostgresInfrastructureFactory,
  SqliteInfrastructureFactory,
  ZlibCompressor,
} from '../persistence';
import type { Environment } from './environment';

export const PERSISTENCE_MODULES = ['memory', 'sqlite', 'postgres'] as const;
export type PersistenceModule = (typeof PERSISTENCE_MODULES)[number];

/** The persistence module an application's environment selects (PERSISTENCE, default memory). */
export function persistenceModule(env: Environment): PersistenceModule {
  return env.choice('PERSISTENCE', PERSISTENCE_MODULES, 'memory');
}

/** Makes the infrastructure factory that PERSISTENCE and its module's settings describe. */
export function createInfrastructure(env: Environment): InfrastructureFactory {
  const applicationName = env.applicationName;
  switch (persistenceModule(env)) {
    case 'memory':
      return new MemoryInfrastructureFactory({ applicationName });
    case 'sqlite':
      return new SqliteInfrastructureFactory({
        applicationName,
        dbName: env.require('SQLITE_DBNAME', 'when PERSISTENCE=sqlite (a file path, or :memory:)'),
        synchronous: env.choice('SQLITE_SYNCHRONOUS', ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const, 'NORMAL'),
        busyTimeoutMs: env.integer('SQLITE_BUSY_TIMEOUT_MS', 0),
      });
    case 'postgres':
      return new PostgresInfrastructureFactory({
        applicationName,
        connectionString: env.get('POSTGRES_URL'),
        schema: env.get('POSTGRES_SCHEMA'),
        poolSize: env.integer('POSTGRES_POOL_SIZE', 1),
        logPoolSize: env.integer('POSTGRES_LOG_POOL_SIZE', 1),
        ordering: env.choice('POSTGRES_ORDERING', ['watermark', 'lock'] as const, 'watermark'),
        connectTimeoutMs: env.integer('POSTGRES_CONNECT_TIMEOUT_MS', 1),
      });
  }
}

/** The mapper an environment describes: COMPRESSOR=zlib compresses, CIPHER_KEY encrypts. */
export function createMapper(env: Environment, transcoder: JSONTranscoder): Mapper {
  const compressor = env.choice('COMPRESSOR', ['none', 'zlib'] as const, 'none') === 'zlib' ? new ZlibCompressor() : undefined;
  const key = env.get('CIPHER_KEY');
  const cipher = key === undefined ? undefined : new AesGcmCipher(key, env.source('CIPHER_KEY'));
  return new Mapper({ transcoder, compressor, cipher, applicationName: env.applicationName });
}
