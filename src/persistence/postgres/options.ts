import { ConfigurationError } from '../errors';
import { quoteIdentifier, tableName } from '../names';

/** How the notification log of a PostgreSQL application recorder is ordered. */
export type PostgresOrdering = 'watermark' | 'lock';

export interface PostgresInfrastructureOptions {
  /** Names the application's tables (`<name>_events`, `<name>_tracking`, `<name>_<purpose>`). */
  applicationName: string;
  /** A `postgres://` URL; without it node-postgres reads the standard `PG*` environment variables. */
  connectionString?: string;
  /** Schema of the tables (default `public`); lower-cased, validated, created when missing. */
  schema?: string;
  /** Connections in the factory's pool, shared by its recorders' commands and writes (default 5). */
  poolSize?: number;
  /**
   * Connections of the factory's second pool, for reads of its notification log (what followers
   * do), opened at the first such read (default 2): followers never wait behind commands.
   */
  logPoolSize?: number;
  /**
   * `watermark` (default): the log is ordered by `(txid, id)` and readers only see transactions
   * below the oldest running one. `lock`: writers take `LOCK TABLE ... IN EXCLUSIVE MODE`, so ids
   * are assigned in commit order and the log is read by id. Every writer and reader of one table
   * must use the same mode.
   */
  ordering?: PostgresOrdering;
  /** How long to wait for a connection before raising OperationalError (default 5000 ms). */
  connectTimeoutMs?: number;
  /**
   * Watermark mode: how long a read waits, at most, for transactions that were still running when
   * it began and hold back notifications already committed (so a reader sees what was committed
   * before it asked). 0 returns at once with what is below the watermark. Default 250 ms.
   */
  watermarkWaitMs?: number;
  /**
   * Watermark mode: how long a read told of a committed notification (`waitFor`) waits, at most,
   * for the log to show it, before it fails with an OperationalError. Default 30,000 ms.
   */
  visibilityTimeoutMs?: number;
}

/** The options with defaults applied and every value checked. */
export interface ResolvedPostgresOptions {
  readonly applicationName: string;
  readonly connectionString: string | undefined;
  readonly schema: string;
  readonly poolSize: number;
  readonly logPoolSize: number;
  readonly ordering: PostgresOrdering;
  readonly connectTimeoutMs: number;
  readonly watermarkWaitMs: number;
  readonly visibilityTimeoutMs: number;
}

const MAX_IDENTIFIER_LENGTH = 63;

function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigurationError(`PostgreSQL option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Checks a schema name: it becomes a quoted identifier, so only letters, digits and underscores. */
export function checkSchemaName(schema: unknown): string {
  if (typeof schema !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) {
    throw new ConfigurationError(
      `PostgreSQL option schema '${String(schema)}' is not a valid schema name: use letters, digits and underscores, ` +
        'starting with a letter or underscore',
    );
  }
  const name = schema.toLowerCase();
  if (name.length > MAX_IDENTIFIER_LENGTH) {
    throw new ConfigurationError(`PostgreSQL option schema '${schema}' is longer than ${MAX_IDENTIFIER_LENGTH} characters`);
  }
  quoteIdentifier(name);
  return name;
}

export function resolveOptions(options: PostgresInfrastructureOptions): ResolvedPostgresOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigurationError('PostgresInfrastructureFactory takes an options object with an applicationName');
  }
  const { applicationName } = options;
  if (typeof applicationName !== 'string' || applicationName.length === 0) {
    throw new ConfigurationError('PostgreSQL option applicationName is required');
  }
  // Every table name the application can get must be valid: checking the longest built-in one
  // raises a ConfigurationError naming the application now rather than at first use.
  tableName(applicationName, 'tracking');
  if (options.connectionString !== undefined && (typeof options.connectionString !== 'string' || options.connectionString === '')) {
    throw new ConfigurationError('PostgreSQL option connectionString must be a non-empty string when given');
  }
  const ordering = options.ordering ?? 'watermark';
  if (ordering !== 'watermark' && ordering !== 'lock') {
    throw new ConfigurationError(`PostgreSQL option ordering must be 'watermark' or 'lock', got '${String(ordering)}'`);
  }
  return {
    applicationName,
    connectionString: options.connectionString,
    schema: checkSchemaName(options.schema ?? 'public'),
    poolSize: integerOption('poolSize', options.poolSize, 5, 1, 1000),
    logPoolSize: integerOption('logPoolSize', options.logPoolSize, 2, 1, 1000),
    ordering,
    connectTimeoutMs: integerOption('connectTimeoutMs', options.connectTimeoutMs, 5000, 1, 3_600_000),
    watermarkWaitMs: integerOption('watermarkWaitMs', options.watermarkWaitMs, 250, 0, 3_600_000),
    visibilityTimeoutMs: integerOption('visibilityTimeoutMs', options.visibilityTimeoutMs, 30_000, 0, 3_600_000),
  };
}
