import type { Draft } from 'immer';
import { ConfigurationError, type DomainEvent } from '../domain';

/**
 * What a SQL view's update writes with, inside the projection's transaction: statements with `?`
 * placeholders on both SQL stores. `table(name)` is the name to write to: the table of the
 * generation being written (a rebuild writes a new one beside the live one), never the name
 * readers use.
 */
export interface ViewWriter {
  readonly dialect: 'sqlite' | 'postgres';
  /** The qualified name of one of the view's tables, in the generation being written. */
  table(name: string): string;
  /**
   * Runs a statement that returns no rows. SQLite runs it at once; PostgreSQL sends it on the
   * transaction's connection and checks it before COMMIT, so an update that only writes needs no
   * `await` and is the same function on both stores.
   */
  run(sql: string, params?: readonly unknown[]): void;
  /** The rows of a query in the transaction: SQLite, the rows; PostgreSQL, a promise of them. */
  all<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): R[] | Promise<R[]>;
}

/** What a view reads with, from anywhere (it needs no transaction). */
export interface ViewReader {
  readonly dialect: 'sqlite' | 'postgres' | 'memory';
  /** Rows of a query (SQL stores), `?` placeholders; the view's tables by the names `table()` gives. */
  all<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** The qualified name readers use for one of the view's tables (it always shows a whole generation). */
  table(name: string): string;
  /** A memory view's live state. */
  state<S>(): Promise<S>;
}

/**
 * A materialised view in SQL tables of the projection's own store (SQLite or PostgreSQL). A
 * subclass declares its tables (`static tables`: name to column definitions; created if missing),
 * its update (given a batch of events, in order, and the projection's transaction) and its query
 * methods, which read with `this.all` / `this.get` and name tables with `this.table(...)`.
 *
 * Each table name is also what readers query with ordinary SQL: it is a SQL view of the live
 * generation's table (`<name>__g<N>`), switched atomically when a rebuild completes.
 */
export abstract class SqlView {
  /** The view's tables: name (lower case, letters, digits, underscores) to column definitions. */
  static tables: Readonly<Record<string, string>> = {};
  /** Bumped when the tables or the update change: a live generation of another version must be rebuilt. */
  static version = 1;

  constructor(protected readonly reader: ViewReader) {}

  /** Applies a batch of events (in log order) to the tables. Must be a function of the events and the tables alone. */
  abstract update(events: readonly DomainEvent[], sql: ViewWriter): void | Promise<void>;

  /** The name readers use for one of the view's tables, qualified. */
  table(name: string): string {
    return this.reader.table(name);
  }

  protected all<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return this.reader.all<R>(sql, params);
  }

  protected async get<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R | undefined> {
    return (await this.reader.all<R>(sql, params))[0];
  }
}

/**
 * A materialised view held in memory, with the memory store: its state is a plain object made by
 * `initialState()` and changed by `update` through an immer draft (so a batch that throws changes
 * nothing). Each application instance (each pipeline) keeps its own.
 */
export abstract class MemoryView<S extends object = Record<string, unknown>> {
  static version = 1;

  constructor(protected readonly reader: ViewReader) {}

  abstract initialState(): S;

  /** Applies a batch of events (in log order) to the draft of the state. */
  abstract update(events: readonly DomainEvent[], draft: Draft<S>): void;

  /** The live state (frozen: change it only through update). */
  state(): Promise<S> {
    return this.reader.state<S>();
  }
}

export type View = SqlView | MemoryView<any>;
export type SqlViewClass = (new (reader: ViewReader) => SqlView) & { readonly tables: Readonly<Record<string, string>>; readonly version: number };
export type MemoryViewClass = (new (reader: ViewReader) => MemoryView<any>) & { readonly version: number };
export type ViewClass = SqlViewClass | MemoryViewClass;

export function isSqlViewClass(cls: ViewClass): cls is SqlViewClass {
  return cls.prototype instanceof SqlView;
}

const TABLE_NAME = /^[a-z_][a-z0-9_]{0,49}$/;

/** Checks a view class's declaration; names what is wrong. */
export function checkViewClass(projectionName: string, cls: unknown): ViewClass {
  if (typeof cls !== 'function' || !(cls.prototype instanceof SqlView || cls.prototype instanceof MemoryView)) {
    throw new ConfigurationError(`projection ${projectionName} needs a static view: a class extending SqlView or MemoryView`);
  }
  const view = cls as ViewClass;
  if (!Number.isSafeInteger(view.version) || view.version < 1) {
    throw new ConfigurationError(`view ${cls.name} of ${projectionName}: version must be an integer >= 1, got ${String(view.version)}`);
  }
  if (isSqlViewClass(view)) {
    const names = Object.keys(view.tables ?? {});
    if (names.length === 0) throw new ConfigurationError(`view ${cls.name} of ${projectionName} declares no tables (static tables = { name: 'columns' })`);
    for (const name of names) {
      if (!TABLE_NAME.test(name) || name.includes('__')) {
        throw new ConfigurationError(
          `view ${cls.name} of ${projectionName}: table name '${name}' must be lower case letters, digits and single underscores (at most 50)`,
        );
      }
      if (typeof view.tables[name] !== 'string' || view.tables[name].trim() === '') {
        throw new ConfigurationError(`view ${cls.name} of ${projectionName}: table ${name} needs its column definitions as a string`);
      }
    }
  }
  return view;
}

/** The physical table of one generation of a view's table. */
export function generationTable(name: string, generation: number): string {
  return `${name}__g${generation}`;
}
