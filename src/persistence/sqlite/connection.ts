import Database from 'better-sqlite3';
import { OperationalError } from '../errors';
import { mapSqliteError } from './errors';
import type { ResolvedSqliteOptions } from './options';

/**
 * One better-sqlite3 connection, shared by the recorders of one factory. better-sqlite3 is
 * synchronous: each operation runs to completion on this thread, so no two operations of one
 * connection ever overlap, and writers of other connections (threads, processes) are serialised by
 * SQLite's write lock, waited for up to `busyTimeoutMs`.
 */
export class SqliteConnection {
  readonly file: string;
  readonly busyTimeoutMs: number;
  private readonly db: Database.Database;
  private readonly createdTables = new Set<string>();
  private closed = false;

  constructor(options: ResolvedSqliteOptions) {
    this.file = options.dbName;
    this.busyTimeoutMs = options.busyTimeoutMs;
    this.db = this.attempt('opening', () => new Database(options.dbName, { timeout: options.busyTimeoutMs }));
    try {
      this.attempt('setting its pragmas', () => configure(this.db, options));
    } catch (error) {
      this.db.close();
      this.closed = true;
      throw error;
    }
  }

  get isOpen(): boolean {
    return !this.closed && this.db.open;
  }

  /** The open database; OperationalError once the connection is closed. */
  database(action: string): Database.Database {
    if (!this.isOpen) {
      throw new OperationalError(`SQLite database '${this.file}' is closed: its factory was closed (${action})`);
    }
    return this.db;
  }

  /** Runs `work` against the open database, translating SQLite's errors (see mapSqliteError). */
  run<T>(action: string, work: (db: Database.Database) => T): T {
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

  /** Closes the connection; closing again does nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.db.open) this.db.close();
  }

  private attempt<T>(action: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw mapSqliteError(error, { file: this.file, action, busyTimeoutMs: this.busyTimeoutMs });
    }
  }
}

/** WAL lets readers go on while one writer writes; it is a property of the file, kept once set. */
function configure(db: Database.Database, options: ResolvedSqliteOptions): void {
  if (!options.inMemory) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous}`); // one of four checked words
}
