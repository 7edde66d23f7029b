import { resolve } from 'node:path';
import { OperationalError } from '../errors';
import { APPLICATIONS_TABLE, quoteIdentifier, tablePrefix, tablesOwnedByAnother } from '../names';
import { openDatabase, type SqliteDatabase } from './driver';
import { mapSqliteError } from './errors';
import type { ResolvedSqliteOptions } from './options';

/**
 * One factory's handle on a better-sqlite3 connection, shared by the recorders of the factory.
 * Factories of one thread that open the same file (with the same settings) share one connection:
 * better-sqlite3 is synchronous, so each operation, transactions included, runs to completion on
 * this thread and no two ever overlap; and one connection keeps its page cache, where each of
 * several would have to drop its own whenever another one wrote. Writers of other threads and
 * processes are serialised by SQLite's write lock, waited for up to `busyTimeoutMs`.
 */
export class SqliteConnection {
  readonly file: string;
  readonly busyTimeoutMs: number;
  private readonly shared: SharedDatabase;
  private readonly db: SqliteDatabase;
  private readonly createdTables = new Set<string>();
  private closed = false;

  constructor(options: ResolvedSqliteOptions) {
    this.file = options.dbName;
    this.busyTimeoutMs = options.busyTimeoutMs;
    this.shared = this.attempt('opening', () => acquire(options));
    this.db = this.shared.db;
  }

  /** How many connections to files this thread has open (each shared by the factories of one file). */
  static openFileConnections(): number {
    return sharedByKey.size;
  }

  get isOpen(): boolean {
    return !this.closed && this.db.open;
  }

  /** The open database; OperationalError once the connection is closed. */
  database(action: string): SqliteDatabase {
    if (!this.isOpen) {
      throw new OperationalError(`SQLite database '${this.file}' is closed: its factory was closed (${action})`);
    }
    return this.db;
  }

  /** Runs `work` against the open database, translating SQLite's errors (see mapSqliteError). */
  run<T>(action: string, work: (db: SqliteDatabase) => T): T {
    const db = this.database(action);
    return this.attempt(action, () => work(db));
  }

  /** Runs `ddl` once per connection for `table`, in an immediate transaction (other processes may race). */
  ensureTable(table: string, ddl: string): void {
    this.database(`making a recorder of ${table}`);
    if (this.createdTables.has(table)) return;
    this.run(`creating table ${table}`, (db) => db.transaction(() => db.exec(ddl)).immediate());
    this.createdTables.add(table);
  }

  /**
   * Records in the file that `applicationName` owns the tables of its name's prefix, or refuses
   * (ConfigurationError) when another application, whose name differs only by case, owns them.
   */
  claimTables(applicationName: string): void {
    const table = quoteIdentifier(APPLICATIONS_TABLE);
    this.ensureTable(
      APPLICATIONS_TABLE,
      `CREATE TABLE IF NOT EXISTS ${table} (table_prefix TEXT PRIMARY KEY, application_name TEXT NOT NULL) WITHOUT ROWID`,
    );
    const prefix = tablePrefix(applicationName);
    const owner = this.run(`claiming the tables of ${applicationName}`, (db) => {
      const select = db.prepare(`SELECT application_name FROM ${table} WHERE table_prefix = ?`).pluck();
      const found = select.get(prefix) as string | undefined;
      if (found !== undefined) return found;
      return db
        .transaction(() => {
          db.prepare(`INSERT INTO ${table} (table_prefix, application_name) VALUES (?, ?) ON CONFLICT (table_prefix) DO NOTHING`).run(prefix, applicationName);
          return select.get(prefix) as string;
        })
        .immediate();
    });
    if (owner !== applicationName) throw tablesOwnedByAnother(`SQLite database '${this.file}'`, applicationName, owner);
  }

  /** Closes the connection; closing again does nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    release(this.shared);
  }

  private attempt<T>(action: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw mapSqliteError(error, { file: this.file, action, busyTimeoutMs: this.busyTimeoutMs });
    }
  }
}

/** A connection and how many handles use it; `key` names it among this thread's shared ones. */
interface SharedDatabase {
  readonly key?: string;
  readonly db: SqliteDatabase;
  handles: number;
}

/** Open connections of this thread to files, by file and settings. */
const sharedByKey = new Map<string, SharedDatabase>();

/** This thread's connection to the file (opened and configured if need be); ':memory:' is always new. */
function acquire(options: ResolvedSqliteOptions): SharedDatabase {
  const key = options.inMemory ? undefined : `${resolve(options.dbName)}\0${options.synchronous}\0${options.busyTimeoutMs}`;
  const existing = key === undefined ? undefined : sharedByKey.get(key);
  if (existing !== undefined && existing.db.open) {
    existing.handles += 1;
    return existing;
  }
  const db = openDatabase(options.dbName, { timeout: options.busyTimeoutMs });
  try {
    configure(db, options);
  } catch (error) {
    db.close();
    throw error;
  }
  const shared = { key, db, handles: 1 };
  if (key !== undefined) sharedByKey.set(key, shared);
  return shared;
}

/** Gives back a handle: the connection closes with its last handle. */
function release(shared: SharedDatabase): void {
  if (--shared.handles > 0) return;
  if (shared.key !== undefined && sharedByKey.get(shared.key) === shared) sharedByKey.delete(shared.key);
  if (shared.db.open) shared.db.close();
}

/** WAL lets readers go on while one writer writes; it is a property of the file, kept once set. */
function configure(db: SqliteDatabase, options: ResolvedSqliteOptions): void {
  if (!options.inMemory) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous}`); // one of four checked words
}
