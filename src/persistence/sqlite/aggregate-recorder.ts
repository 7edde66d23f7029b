import type Database from 'better-sqlite3';
import { OperationalError, RecordConflictError } from '../errors';
import { quoteIdentifier } from '../names';
import type { StoredEvent } from '../records';
import type { AggregateRecorder, InsertEventsOptions, SelectEventsOptions } from '../recorders';
import { checkStoredEvents } from '../validation';
import type { SqliteConnection } from './connection';
import { isUniqueViolation } from './errors';
import { EventRow, toStoredEvent } from './rows';
import { createAggregateTable } from './schema';

type Transaction<A extends unknown[], R> = Database.Transaction<(...args: A) => R>;

/**
 * The events of aggregates in one table (`<application>_<purpose>`), keyed by originator id and
 * version. Writes are immediate transactions: a version already taken raises RecordConflictError
 * and nothing of the write is kept.
 */
export class SqliteAggregateRecorder implements AggregateRecorder {
  /** Quoted name of the table the events are in. */
  protected readonly table: string;
  private readonly statements = new Map<string, Database.Statement>();
  private writer?: Transaction<[readonly StoredEvent[], InsertEventsOptions], number[]>;
  private closed = false;

  /**
   * `table` comes from tableName(applicationName, purpose). The table is created if missing
   * (`createTable` lets subclasses store events in a table of their own shape).
   */
  constructor(
    protected readonly connection: SqliteConnection,
    readonly tableName: string,
    createTable: (connection: SqliteConnection, table: string) => void = createAggregateTable,
  ) {
    this.table = quoteIdentifier(tableName);
    createTable(connection, tableName);
  }

  async insertEvents(events: readonly StoredEvent[], options: InsertEventsOptions = {}): Promise<number[]> {
    this.checkInsert(events, options);
    return this.run('insertEvents', (db) => {
      this.writer ??= db.transaction((batch: readonly StoredEvent[], opts: InsertEventsOptions) => this.write(batch, opts));
      return this.writer.immediate(events, options);
    });
  }

  async selectEvents(originatorId: string, options: SelectEventsOptions = {}): Promise<StoredEvent[]> {
    const gt = options.gt ?? -1;
    const lte = options.lte ?? Number.MAX_SAFE_INTEGER;
    const limit = options.limit === undefined || !Number.isFinite(options.limit) ? -1 : Math.max(0, Math.floor(options.limit));
    const order = options.desc ? 'DESC' : 'ASC';
    return this.run('selectEvents', () => {
      const rows = this.statement(
        `SELECT originator_id, originator_version, topic, state FROM ${this.table}
         WHERE originator_id = ? AND originator_version > ? AND originator_version <= ?
         ORDER BY originator_version ${order} LIMIT ?`,
      ).all(originatorId, gt, lte, limit) as EventRow[];
      return rows.map(toStoredEvent);
    });
  }

  /** Further calls of this recorder reject; the connection stays open until its factory is closed. */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** Checks the arguments before anything is written (DataError). */
  protected checkInsert(events: readonly StoredEvent[], _options: InsertEventsOptions): void {
    checkStoredEvents(events);
  }

  /** Writes one call's records; runs inside the immediate transaction, so throwing rolls it all back. */
  protected write(events: readonly StoredEvent[], _options: InsertEventsOptions): number[] {
    const insert = this.statement(
      `INSERT INTO ${this.table} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)`,
    );
    for (const event of events) {
      this.insertOne(event, () => insert.run(event.originatorId, event.originatorVersion, event.topic, event.state));
    }
    return [];
  }

  /** Runs one event's INSERT, turning a taken version into RecordConflictError. */
  protected insertOne<T>(event: StoredEvent, insert: () => T): T {
    try {
      return insert();
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new RecordConflictError(
          `version ${event.originatorVersion} of aggregate ${event.originatorId} is already recorded`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** The prepared statement for `sql`, prepared once per recorder. */
  protected statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.connection.database('preparing a statement').prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `work` on the open connection, with SQLite's errors translated. */
  protected run<T>(action: string, work: (db: Database.Database) => T): T {
    if (this.closed) {
      throw new OperationalError(`the recorder of ${this.tableName} in SQLite database '${this.connection.file}' is closed (${action})`);
    }
    return this.connection.run(`${action} on ${this.tableName}`, work);
  }
}
