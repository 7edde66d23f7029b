import { DataError } from '../domain/errors';
import type { ProcessRecorder } from './recorders';
import type { Tracking } from './records';

/** What a store keeps a projection's view in. */
export type ViewDialect = 'sqlite' | 'postgres' | 'memory';

/**
 * The statements of a projection's transaction, with `?` placeholders on both SQL stores (the
 * PostgreSQL store numbers them). SQLite runs each at once, inside its immediate transaction;
 * PostgreSQL sends them in order on the transaction's connection and checks every one of them
 * before it commits, so a view that only writes needs not wait for each statement.
 */
export interface SqlTransaction {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Moves a tracking record by compare-and-set: one that does not advance the recorded position
   * fails the transaction with TrackingConflictError (SQLite: at once; PostgreSQL: before COMMIT).
   */
  track(tracking: Tracking): void;
  /** Runs a statement that returns no rows (its failure fails the transaction). */
  run(sql: string, params?: readonly unknown[]): void;
  /** The rows of a query: SQLite, the rows themselves; PostgreSQL, a promise of them. */
  all<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): R[] | Promise<R[]>;
  /** A table's name for SQL: `"name"` (SQLite) or `"schema"."name"` (PostgreSQL). */
  qualify(name: string): string;
  /** The store's tracking table (application_name, pipeline_id, notification_id), qualified. */
  readonly trackingTable: string;
}

/** What a memory store's projection transaction sees: the view states by key, and the tracking positions. */
export interface MemoryViewTransaction {
  readonly dialect: 'memory';
  /** Moves a tracking record by compare-and-set (TrackingConflictError when it does not advance). */
  track(tracking: Tracking): void;
  /** A view state as committed (or as set earlier in this transaction). */
  get<S>(key: string): S | undefined;
  /** Sets a view state; kept only if the whole transaction succeeds. */
  set(key: string, state: unknown): void;
  /** Deletes a view state (at commit). */
  delete(key: string): void;
  /** Every tracking position, by upstream and pipeline. */
  positions(): TrackingPosition[];
  /** Replaces every tracking position (at commit). */
  replacePositions(positions: readonly TrackingPosition[]): void;
}

export type ViewTransaction = SqlTransaction | MemoryViewTransaction;

/** One row of a store's tracking table. */
export interface TrackingPosition {
  readonly applicationName: string;
  readonly pipelineId: number;
  readonly notificationId: number;
}

/**
 * A process recorder that can keep a projection's view: `writeView` runs `work` in one transaction
 * with the transaction's own client, in which it moves tracking records by compare-and-set (a
 * TrackingConflictError, as insertEvents raises, keeps nothing) and writes the view. On SQLite and
 * memory the work runs synchronously inside the transaction (a promise from it is refused: SQLite's
 * connection is shared by the thread's recorders and cannot be held across turns of the event loop).
 */
export interface ViewRecorder extends ProcessRecorder {
  readonly viewDialect: ViewDialect;
  writeView<T>(work: (transaction: ViewTransaction) => T | Promise<T>): Promise<T>;
  /** Rows of a query outside any transaction (SQL stores); `?` placeholders. */
  queryView<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Every tracking position recorded. */
  trackingPositions(): Promise<TrackingPosition[]>;
  /** A table's name for SQL, as the transactions' `qualify` gives it. */
  qualify(name: string): string;
}

/** A view's statement after its transaction had ended (an update that went on working after it returned or failed): every store refuses it. */
export function viewTransactionEnded(): DataError {
  return new DataError("a view's statement came after its transaction had ended (an update that went on after it returned or failed): it was not run");
}

export function isViewRecorder(recorder: unknown): recorder is ViewRecorder {
  return typeof (recorder as ViewRecorder | undefined)?.writeView === 'function';
}

/** `$1`, `$2`, ... for the `?` placeholders of `sql` (outside quoted strings and names), for PostgreSQL. */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const char of sql) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      out += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      out += char;
    } else if (char === '?') {
      out += `$${++n}`;
    } else {
      out += char;
    }
  }
  return out;
}
