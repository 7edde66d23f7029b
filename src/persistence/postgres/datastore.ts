import type { CustomTypesConfig, Pool, PoolClient, PoolConfig, QueryArrayConfig, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { OperationalError } from '../errors';
import { requireOptionalPeer } from '../peers';
import { isConnectionError, toPersistenceError } from './errors';
import type { ResolvedPostgresOptions } from './options';

// pg (node-postgres) is an optional peer dependency: it is loaded when a PostgreSQL factory is
// made, and the declarations this package ships name none of its types (a consumer that uses
// another store needs neither the driver nor its @types): what the datastore offers the
// recorders (sessions, transactions, rows) is typed with the interfaces below.

let driver: typeof import('pg') | undefined;

/** node-postgres, loaded on first use (a ConfigurationError naming the package when it is not installed). */
function pg(): typeof import('pg') {
  driver ??= requireOptionalPeer<typeof import('pg')>('pg', 'PostgreSQL persistence (PERSISTENCE=postgres, PostgresInfrastructureFactory)');
  return driver;
}

/**
 * Where statements run: autocommit on a pooled connection (PostgresDatastore.session), or inside
 * a transaction (TransactionSession). Either way each statement is prepared by name, its rows are
 * arrays of the selected columns' values and BIGINTs are numbers (see queryArrays).
 */
export interface Session {
  queryArrays(sql: string, values: readonly unknown[]): Promise<unknown[][]>;
}

/** A row as node-postgres gives it: the selected columns by name. */
export type Row = object;

/** The statements of a transaction (datastore.transaction): rows by column name, or as arrays. */
export interface TransactionSession extends Session {
  query<R extends Row = Record<string, unknown>>(sql: string, values?: readonly unknown[]): Promise<R[]>;
  /** Rows by column name, with BIGINTs as numbers (what a projection's view reads and writes). */
  rows<R extends Row = Record<string, unknown>>(sql: string, values?: readonly unknown[]): Promise<R[]>;
}

/**
 * The pools and what the recorders of one factory share: the options, the memo of created tables,
 * and helpers that run statements and transactions with errors mapped to the library's. Reads of
 * the notification log (what followers do) have a small pool of their own, opened at the first
 * such read, so that followers never wait for connections behind a crowd of commands.
 */
export class PostgresDatastore {
  readonly #pool: Pool;
  #logPool: Pool | undefined;
  private readonly created = new Map<string, Promise<void>>();
  private closing: Promise<void> | undefined;

  constructor(readonly options: ResolvedPostgresOptions) {
    this.#pool = openPool(options, options.poolSize);
  }

  /** The pool of notification-log reads (see the class). */
  private get logPool(): Pool {
    this.#logPool ??= openPool(this.options, this.options.logPoolSize);
    return this.#logPool;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Runs `create` once per key; a failure is forgotten so that a later call tries again. */
  once(key: string, create: () => Promise<void>): Promise<void> {
    let promise = this.created.get(key);
    if (promise === undefined) {
      promise = create();
      this.created.set(key, promise);
      promise.catch(() => {
        if (this.created.get(key) === promise) this.created.delete(key);
      });
    }
    return promise;
  }

  /** One statement on a pooled connection (autocommit). */
  async query<R extends Row>(operation: string, sql: string, values?: unknown[]): Promise<R[]> {
    return (await this.statement<R>(operation, { text: sql, values })).rows;
  }

  /**
   * One statement on a pooled connection (autocommit), its rows as arrays of the selected columns'
   * values (node-postgres then makes no object per row), with BIGINTs as numbers: ids and versions
   * stay below 2^53.
   */
  async queryArrays(operation: string, sql: string, values?: unknown[]): Promise<unknown[][]> {
    return (await this.statement<unknown[]>(operation, { text: sql, values, rowMode: 'array', types: arrayTypes() })).rows;
  }

  /** One statement on a pooled connection (autocommit), rows by column name with BIGINTs as numbers. */
  async rows<R extends Row>(operation: string, sql: string, values?: unknown[]): Promise<R[]> {
    return (await this.statement<R>(operation, { text: sql, values, types: arrayTypes() })).rows;
  }

  /** Statements in autocommit, each on a pooled connection; errors name `operation`. */
  session(operation: string): Session {
    return { queryArrays: (sql, values) => this.queryArrays(operation, sql, values as unknown[]) };
  }

  /** queryArrays, for a read of the notification log: on the pool of such reads. */
  async queryLogArrays(operation: string, sql: string, values?: unknown[]): Promise<unknown[][]> {
    return (await this.statement<unknown[]>(operation, { text: sql, values, rowMode: 'array', types: arrayTypes() }, this.logPool)).rows;
  }

  /**
   * Runs `work` in one transaction on one pooled client: `begin` (default BEGIN), the work, COMMIT.
   * On any error the transaction is rolled back (or, if the connection broke, the client is
   * discarded, which ends the transaction on the server) and the error is mapped and rethrown.
   * The client always goes back to the pool.
   */
  async transaction<T>(operation: string, work: (session: TransactionSession) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const client = await this.connect(operation);
    let discard: Error | undefined;
    let committing = false;
    try {
      await client.query(begin);
      const result = await work(transactionSession(client));
      committing = true;
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (committing || isConnectionError(error)) {
        discard = error instanceof Error ? error : new Error(String(error));
      } else {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          discard = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
      }
      throw toPersistenceError(error, { operation, committing });
    } finally {
      client.release(discard);
    }
  }

  /** A pooled client, once the datastore is known to be open; connection errors mapped. */
  private async connect(operation: string, pool = this.#pool): Promise<PoolClient> {
    this.checkOpen(operation);
    try {
      return await pool.connect();
    } catch (error) {
      throw toPersistenceError(error, { operation });
    }
  }

  /**
   * Runs one statement on a pooled client. Unlike pool.query, which drops the connection after any
   * error, the client goes back to the pool after an error of the statement (a version conflict, a
   * bad value): only a broken connection is discarded.
   */
  private async statement<R extends Row>(
    operation: string,
    config: QueryConfig | QueryArrayConfig,
    pool = this.#pool,
  ): Promise<QueryResult<R & QueryResultRow>> {
    const client = await this.connect(operation, pool);
    let discard: Error | undefined;
    try {
      return (await client.query({ ...config, name: preparedName(config.text) } as QueryConfig)) as QueryResult<R & QueryResultRow>;
    } catch (error) {
      if (isConnectionError(error)) discard = error instanceof Error ? error : new Error(String(error));
      throw toPersistenceError(error, { operation });
    } finally {
      client.release(discard);
    }
  }

  /** Ends the pools (idempotent); waits for checked-out clients to be released. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      const pools = [this.#pool, ...(this.#logPool === undefined ? [] : [this.#logPool])];
      this.closing = Promise.all(pools.map((pool) => pool.end().catch(() => undefined))).then(() => undefined);
    }
    return this.closing;
  }

  private checkOpen(operation: string): void {
    if (this.closing !== undefined) {
      throw new OperationalError(`${operation}: the PostgreSQL infrastructure factory is closed`);
    }
  }
}

/** Statements of the transaction open on `client` (datastore.transaction maps their errors). */
function transactionSession(client: PoolClient): TransactionSession {
  return {
    query: async <R extends Row>(sql: string, values?: readonly unknown[]) =>
      (await client.query<R & QueryResultRow>(sql, values as unknown[] | undefined)).rows,
    rows: async <R extends Row>(sql: string, values?: readonly unknown[]) =>
      (await client.query<R & QueryResultRow>({ text: sql, values: values as unknown[], types: arrayTypes() })).rows,
    queryArrays: async (sql, values) =>
      (await client.query({ text: sql, values: values as unknown[], name: preparedName(sql), rowMode: 'array', types: arrayTypes() })).rows,
  };
}

/**
 * The name under which each connection prepares `sql` once, so that the server parses and plans
 * it once per connection, not on every call (planning costs more than running these statements).
 */
function preparedName(sql: string): string {
  let name = PREPARED_NAMES.get(sql);
  if (name === undefined) {
    name = `es_${PREPARED_NAMES.size + 1}`;
    PREPARED_NAMES.set(sql, name);
  }
  return name;
}
const PREPARED_NAMES = new Map<string, string>();

const INT8_OID = 20;

let ARRAY_TYPES: CustomTypesConfig | undefined;

/** node-postgres' parsers, but BIGINT (a decimal string by default) as a number. */
function arrayTypes(): CustomTypesConfig {
  if (ARRAY_TYPES === undefined) {
    const { types } = pg();
    ARRAY_TYPES = {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary' ? Number : types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
    };
  }
  return ARRAY_TYPES;
}

/** The listener of connection errors that the pool or the statement in flight already handles. */
function ignore(): void {}

function openPool(options: ResolvedPostgresOptions, max: number): Pool {
  const config: PoolConfig = {
    max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
    keepAlive: true,
  };
  if (options.connectionString !== undefined) config.connectionString = options.connectionString;
  // Names the connections in pg_stat_activity, unless PGAPPNAME or the URL says otherwise.
  if (process.env.PGAPPNAME === undefined) config.application_name = `es:${options.applicationName}`.slice(0, 63);
  const pool = new (pg().Pool)(config);
  // An idle connection that dies (server restart, pg_terminate_backend) makes the pool emit
  // 'error': without a listener that would crash the process. The pool removes the client.
  pool.on('error', ignore);
  // A checked-out client that loses its connection between statements emits 'error' too; the
  // statement in flight (or the next) fails with it and the client is discarded on release.
  pool.on('connect', (client) => client.on('error', ignore));
  return pool;
}
