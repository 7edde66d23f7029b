import type BetterSqlite3 from 'better-sqlite3';
import { requireOptionalPeer } from '../peers';

// better-sqlite3 is an optional peer dependency: it is loaded when a SQLite factory first opens a
// file, and the declarations this package ships name none of its types (a consumer that uses
// another store needs neither the driver nor its @types). The recorders see it through the
// interfaces below, which say what they use of it; openDatabase checks, at compile time, that
// better-sqlite3's types fit them.

/** The result of a write statement. */
export interface SqliteRunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

/** A prepared statement (better-sqlite3's Statement, as the recorders use it). */
export interface SqliteStatement {
  run(...parameters: unknown[]): SqliteRunResult;
  get(...parameters: unknown[]): unknown;
  all(...parameters: unknown[]): unknown[];
  /** Rows as arrays of the selected columns' values. */
  raw(toggle?: boolean): this;
  /** Rows as the first selected column's value. */
  pluck(toggle?: boolean): this;
}

/** A function run in a transaction: called as is (BEGIN), or `.immediate(...)` (BEGIN IMMEDIATE). */
export type SqliteTransaction<F extends (...args: any[]) => unknown> = {
  (...args: ArgumentsOf<F>): ReturnType<F>;
  immediate(...args: ArgumentsOf<F>): ReturnType<F>;
};

/** The parameters of F (spelt as better-sqlite3's types spell them, so that its Transaction fits). */
type ArgumentsOf<F> = F extends (...args: infer A) => unknown ? A : never;

/** An open connection (better-sqlite3's Database, as the recorders use it). */
export interface SqliteDatabase {
  readonly open: boolean;
  prepare(sql: string): SqliteStatement;
  transaction<F extends (...args: any[]) => unknown>(fn: F): SqliteTransaction<F>;
  exec(sql: string): unknown;
  pragma(source: string): unknown;
  close(): unknown;
}

let driver: typeof BetterSqlite3 | undefined;

/** Opens `file` with better-sqlite3, loading it on first use (a ConfigurationError if it is not installed). */
export function openDatabase(file: string, options: { readonly timeout: number }): SqliteDatabase {
  driver ??= requireOptionalPeer<typeof BetterSqlite3>('better-sqlite3', 'SQLite persistence (PERSISTENCE=sqlite, SqliteInfrastructureFactory)');
  const db: BetterSqlite3.Database = new driver(file, options);
  return db;
}
