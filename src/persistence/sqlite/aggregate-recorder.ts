import { OperationalError, RecordConflictError, versionConflict } from '../errors';
import { AGGREGATE_RUNG, InsertEventsTemplate, type EventsWrite, type Rung, type WriteSteps } from '../insert-events';
import { quoteIdentifier } from '../names';
import type { StoredEvent } from '../records';
import type { AggregateRecorder, SelectEventsOptions } from '../recorders';
import type { SqliteConnection } from './connection';
import type { SqliteDatabase, SqliteStatement, SqliteTransaction } from './driver';
import { isUniqueViolation } from './errors';
import { EVENT_COLUMNS, EventTuple, toStoredEvents } from './rows';
import { createAggregateTable } from './schema';

/**
 * The events of aggregates in one table (`<application>_<purpose>`), keyed by originator id and
 * version. Writes are immediate transactions: a version already taken raises RecordConflictError
 * and nothing of the write is kept.
 */
export class SqliteAggregateRecorder extends InsertEventsTemplate<number[]> implements AggregateRecorder {
  protected readonly rung: Rung = AGGREGATE_RUNG;
  protected readonly insertOperation: string;
  /** Quoted name of the table the events are in. */
  protected readonly table: string;
  private readonly statements = new Map<string, SqliteStatement>();
  private readonly rawStatements = new Map<string, SqliteStatement>();
  private readonly pluckStatements = new Map<string, SqliteStatement>();
  /** `<action> on <table>`, for errors, made once per action. */
  private readonly actions = new Map<string, string>();
  /** The immediate transaction of a write; its steps push the notification ids they give. */
  private writer?: SqliteTransaction<(write: EventsWrite, steps: WriteSteps<number[]>) => number[]>;
  /** The immediate transaction of a group: each write in a savepoint of its own (a nested writer). */
  private groupWriter?: SqliteTransaction<(writes: readonly EventsWrite[], steps: WriteSteps<number[]>) => Array<number[] | Error>>;
  private closed = false;
  private readonly insertSql: string;
  private readonly selectEventsSql: { readonly asc: string; readonly desc: string };

  /**
   * `table` comes from tableName(applicationName, purpose). The table is created if missing
   * (`createTable` lets subclasses store events in a table of their own shape).
   */
  constructor(
    protected readonly connection: SqliteConnection,
    readonly tableName: string,
    createTable: (connection: SqliteConnection, table: string) => void = createAggregateTable,
  ) {
    super();
    this.insertOperation = `insertEvents on ${tableName}`;
    this.table = quoteIdentifier(tableName);
    createTable(connection, tableName);
    this.insertSql = `INSERT INTO ${this.table} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)`;
    const select = (order: string) =>
      `SELECT ${EVENT_COLUMNS} FROM ${this.table}
       WHERE originator_id = ? AND originator_version > ? AND originator_version <= ?
       ORDER BY originator_version ${order}`;
    this.selectEventsSql = { asc: select('ASC'), desc: select('DESC') };
  }

  async selectEvents(originatorId: string, options: SelectEventsOptions = {}): Promise<StoredEvent[]> {
    const gt = options.gt ?? -1;
    const lte = options.lte ?? Number.MAX_SAFE_INTEGER;
    const limit = options.limit === undefined || !Number.isFinite(options.limit) ? undefined : Math.min(Math.max(0, Math.floor(options.limit)), Number.MAX_SAFE_INTEGER);
    const sql = withLimit(options.desc ? this.selectEventsSql.desc : this.selectEventsSql.asc, limit);
    return this.run('selectEvents', () => toStoredEvents(this.rawStatement(sql).all(originatorId, gt, lte) as EventTuple[]));
  }

  /** Further calls of this recorder reject; the connection stays open until its factory is closed. */
  async close(): Promise<void> {
    this.closed = true;
  }

  protected inTransaction(write: EventsWrite, steps: WriteSteps<number[]>): number[] {
    return this.run('insertEvents', (db) => {
      return this.writerOf(db).immediate(write, steps);
    });
  }

  /**
   * One immediate transaction for the whole group (one commit), each write in a savepoint of its
   * own: a write that conflicts is rolled back to its savepoint alone, and the others commit.
   */
  protected override inGroup(writes: readonly EventsWrite[], steps: WriteSteps<number[]>): Promise<Array<number[] | Error>> {
    return Promise.resolve(
      this.run('insertEvents', (db) => {
        const writer = this.writerOf(db);
        this.groupWriter ??= db.transaction((group: readonly EventsWrite[], run: WriteSteps<number[]>) =>
          group.map((write) => {
            try {
              return this.notificationIds(writer(write, run), write); // nested: a savepoint
            } catch (error) {
              if (error instanceof RecordConflictError) return error;
              throw error;
            }
          }),
        );
        return this.groupWriter.immediate(writes, steps);
      }),
    );
  }

  /** The transaction of one write (made once): its steps push the notification ids they give. */
  private writerOf(db: SqliteDatabase): SqliteTransaction<(write: EventsWrite, steps: WriteSteps<number[]>) => number[]> {
    this.writer ??= db.transaction((of: EventsWrite, run: WriteSteps<number[]>) => {
      const ids: number[] = [];
      run(ids, of);
      return ids;
    });
    return this.writer;
  }

  protected writeEvents(_ids: number[], write: EventsWrite): void {
    this.insertEach(this.insertSql, write.events, (insert, event) => {
      insert.run(event.originatorId, event.originatorVersion, event.topic, event.state);
    });
  }

  /** Runs `insert` for each event in turn; a version already taken raises RecordConflictError naming it. */
  protected insertEach(sql: string, events: readonly StoredEvent[], insert: (statement: SqliteStatement, event: StoredEvent) => void): void {
    const statement = this.statement(sql);
    let index = 0;
    try {
      for (; index < events.length; index++) insert(statement, events[index]);
    } catch (error) {
      throw isUniqueViolation(error) ? versionConflict(this.insertOperation, events[index], undefined, { cause: error }) : error;
    }
  }

  /** The prepared statement for `sql`, prepared once per recorder. */
  protected statement(sql: string): SqliteStatement {
    return this.prepared(this.statements, sql, 'rows');
  }

  /** The prepared statement for `sql` in raw mode: rows are arrays of the selected columns' values. */
  protected rawStatement(sql: string): SqliteStatement {
    return this.prepared(this.rawStatements, sql, 'raw');
  }

  /** The prepared statement for `sql` in pluck mode: rows are the first selected column's values. */
  protected pluckStatement(sql: string): SqliteStatement {
    return this.prepared(this.pluckStatements, sql, 'pluck');
  }

  /** Runs `work` on the open connection, with SQLite's errors translated. */
  protected run<T>(action: string, work: (db: SqliteDatabase) => T): T {
    if (this.closed) {
      throw new OperationalError(`the recorder of ${this.tableName} in SQLite database '${this.connection.file}' is closed (${action})`);
    }
    let described = this.actions.get(action);
    if (described === undefined) {
      described = `${action} on ${this.tableName}`;
      this.actions.set(action, described);
    }
    return this.connection.run(described, work);
  }

  private prepared(cache: Map<string, SqliteStatement>, sql: string, mode: 'rows' | 'raw' | 'pluck'): SqliteStatement {
    let statement = cache.get(sql);
    if (statement === undefined) {
      // Statements differ by their literal limits (see withLimit): keep the most recent ones.
      if (cache.size >= MAX_PREPARED) cache.delete(cache.keys().next().value as string);
      statement = this.connection.database('preparing a statement').prepare(sql);
      if (mode === 'raw') statement.raw(true);
      else if (mode === 'pluck') statement.pluck(true);
      cache.set(sql, statement);
    }
    return statement;
  }
}

const MAX_PREPARED = 64;

/**
 * `sql` with `LIMIT n` written into it (n an integer >= 0), or without a limit. Not a bound
 * parameter: SQLite plans with a LIMIT's value, so binding one makes it prepare the statement
 * again on every call, which costs more than the query.
 */
export function withLimit(sql: string, limit: number | undefined): string {
  return limit === undefined ? sql : `${sql} LIMIT ${limit}`;
}
