import { ConfigurationError } from '../errors';
import { tableName } from '../names';

/** SQLite's `PRAGMA synchronous` levels. */
export type SqliteSynchronous = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';

/** How to reach an application's SQLite database. */
export interface SqliteInfrastructureOptions {
  /** Names the application's tables (`<name>_events`, `<name>_tracking`, ...). */
  readonly applicationName: string;
  /** Path of the database file, or ':memory:' for a private database of one connection. */
  readonly dbName: string;
  /** `PRAGMA synchronous` (default NORMAL: with WAL, durable except for the last commits on power loss). */
  readonly synchronous?: SqliteSynchronous;
  /** How long a writer waits for another connection's write lock before failing (default 5000 ms). */
  readonly busyTimeoutMs?: number;
}

export interface ResolvedSqliteOptions {
  readonly applicationName: string;
  readonly dbName: string;
  readonly synchronous: SqliteSynchronous;
  readonly busyTimeoutMs: number;
  /** ':memory:': no WAL, and nothing is shared between connections. */
  readonly inMemory: boolean;
}

export const SQLITE_MEMORY = ':memory:';
export const SQLITE_DEFAULT_SYNCHRONOUS: SqliteSynchronous = 'NORMAL';
export const SQLITE_DEFAULT_BUSY_TIMEOUT_MS = 5000;
const SYNCHRONOUS_LEVELS: readonly string[] = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];
const MAX_BUSY_TIMEOUT_MS = 0x7fffffff;

/** Checks the options and fills in the defaults; a wrong setting raises ConfigurationError naming it. */
export function resolveSqliteOptions(options: SqliteInfrastructureOptions): ResolvedSqliteOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigurationError('SqliteInfrastructureFactory takes an options object { applicationName, dbName }');
  }
  const { applicationName, dbName } = options;
  if (typeof applicationName !== 'string') {
    throw new ConfigurationError(`applicationName must be a string, got ${String(applicationName)}`);
  }
  tableName(applicationName, 'events'); // throws ConfigurationError for names that cannot name a table
  if (typeof dbName !== 'string' || dbName.trim().length === 0) {
    throw new ConfigurationError(`dbName must be a file path or '${SQLITE_MEMORY}', got '${String(dbName)}'`);
  }
  const synchronous = options.synchronous ?? SQLITE_DEFAULT_SYNCHRONOUS;
  if (!SYNCHRONOUS_LEVELS.includes(synchronous)) {
    throw new ConfigurationError(`synchronous must be one of ${SYNCHRONOUS_LEVELS.join(', ')}, got '${String(synchronous)}'`);
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? SQLITE_DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > MAX_BUSY_TIMEOUT_MS) {
    throw new ConfigurationError(
      `busyTimeoutMs must be an integer from 0 to ${MAX_BUSY_TIMEOUT_MS}, got ${String(options.busyTimeoutMs)}`,
    );
  }
  return { applicationName, dbName, synchronous, busyTimeoutMs, inMemory: dbName.trim() === SQLITE_MEMORY };
}
