import { OperationalError, RecordConflictError } from '../errors';
import { AGGREGATE_RUNG, APPLICATION_RUNG, InsertEventsTemplate, PROCESS_RUNG, type EventsWrite, type Rung, type WriteSteps } from '../insert-events';
import type { EventsRead, Notification, StoredEvent, Tracking } from '../records';
import type { AggregateRecorder, ApplicationRecorder, ProcessRecorder, SelectEventsOptions, SelectNotificationsOptions } from '../recorders';
import { checkPipelineId, checkSelectNotifications, checkTracking, checkTrackingPosition } from '../validation';
import { numberPlaceholders, viewTransactionEnded, type SqlTransaction, type TrackingPosition, type ViewRecorder, type ViewTransaction } from '../views';
import { aggregateEventsTable, createTables, eventsTable, trackingTable, type TableDefinition } from './create-tables';
import type { PostgresDatastore } from './datastore';
import { logOrdering, type LogOrdering } from './ordering';
import { checkEventsRead, selectEvents } from './select-events';
import { selectEventsGroup } from './select-events-group';
import { relation, type ApplicationTables, type Relation } from './tables';
import { selectTrackingPosition } from './tracking-position';
import { GroupWriteStatement } from './insert-group';
import { WriteStatement } from './write-statement';

/**
 * Events of aggregates in one PostgreSQL table (`<app>_<purpose>`, e.g. snapshots), with optimistic
 * concurrency from its primary key (originator_id, originator_version). Tables are created on first
 * use. Recorders of one factory share its pool; `close()` only retires this recorder (the factory
 * ends the pool). The insertEvents steps build one statement (see WriteStatement), sent at the end.
 */
export class PostgresAggregateRecorder extends InsertEventsTemplate<WriteStatement> implements AggregateRecorder {
  protected readonly rung: Rung = AGGREGATE_RUNG;
  protected readonly insertOperation: string;
  private retired = false;
  /** Set once this recorder's tables are known to exist (so later calls skip the check). */
  private tablesExist = false;

  constructor(
    protected readonly datastore: PostgresDatastore,
    /** The table the events are stored in. */
    readonly table: Relation,
  ) {
    super();
    this.insertOperation = this.operation('insertEvents');
  }

  /** Creates this recorder's tables (and schema) if missing; done once per factory, on first use. */
  createTables(): Promise<void> {
    if (this.tablesExist) return Promise.resolve();
    const definitions = this.tableDefinitions();
    const key = definitions.map((d) => `${d.schema}.${d.objects[0]}`).join(',');
    const created = this.datastore.once(key, () => createTables(this.datastore, definitions));
    created.then(
      () => {
        this.tablesExist = true;
      },
      () => undefined,
    );
    return created;
  }

  async selectEvents(originatorId: string, options: SelectEventsOptions = {}): Promise<StoredEvent[]> {
    this.checkUsable('selectEvents');
    await this.createTables();
    return selectEvents(this.datastore, this.table, originatorId, options);
  }

  async selectEventsGroup(reads: readonly EventsRead[]): Promise<StoredEvent[][]> {
    this.checkUsable('selectEvents');
    for (const read of reads) checkEventsRead(read);
    await this.createTables();
    return selectEventsGroup(this.datastore, this.table, reads);
  }

  async close(): Promise<void> {
    this.retired = true;
  }

  protected async inTransaction(write: EventsWrite, steps: WriteSteps<WriteStatement>): Promise<WriteStatement> {
    this.checkUsable('insertEvents');
    const statement = new WriteStatement(this.table);
    steps(statement, write);
    if (statement.isEmpty) return statement;
    await this.createTables();
    await this.send(statement);
    return statement;
  }

  /** An aggregate table has no log to keep in order: the statement is sent alone. */
  protected send(statement: WriteStatement): Promise<void> {
    return statement.run(this.datastore.session(this.insertOperation));
  }

  protected writeEvents(statement: WriteStatement, write: EventsWrite): void {
    statement.insertEvents(write.events);
  }

  protected tableDefinitions(): TableDefinition[] {
    return [aggregateEventsTable(this.table)];
  }

  protected operation(name: string): string {
    return `${name} on ${this.table.schema}.${this.table.name}`;
  }

  protected checkUsable(name: string): void {
    if (this.retired) throw new OperationalError(`${this.operation(name)}: the recorder is closed`);
    if (this.datastore.closed) throw new OperationalError(`${this.operation(name)}: the PostgreSQL infrastructure factory is closed`);
  }
}

/**
 * Adds the notification log (`<app>_events`). In 'watermark' ordering (the default) the log is
 * ordered by (txid, id) and only shows transactions below the oldest one still running; in 'lock'
 * ordering every write takes `LOCK TABLE ... IN EXCLUSIVE MODE` and the log is read by id.
 */
export class PostgresApplicationRecorder extends PostgresAggregateRecorder implements ApplicationRecorder {
  protected override readonly rung: Rung = APPLICATION_RUNG;
  /** Sends the writes and reads the log, in the ordering the factory was configured with. */
  protected readonly ordering: LogOrdering;

  constructor(
    datastore: PostgresDatastore,
    protected readonly tables: ApplicationTables,
  ) {
    super(datastore, tables.events);
    this.ordering = logOrdering(datastore.options.ordering);
  }

  async selectNotifications(start: number, limit: number, options: SelectNotificationsOptions = {}): Promise<Notification[]> {
    this.checkUsable('selectNotifications');
    checkSelectNotifications(start, limit, options);
    await this.createTables();
    return this.ordering.selectNotifications(this.datastore, this.table, start, limit, options);
  }

  async maxNotificationId(pipelineId?: number): Promise<number> {
    this.checkUsable('maxNotificationId');
    const pipeline = pipelineId === undefined ? undefined : checkPipelineId(pipelineId);
    await this.createTables();
    return this.ordering.maxNotificationId(this.datastore, this.table, pipeline);
  }

  protected override send(statement: WriteStatement): Promise<void> {
    return this.ordering.write(this.datastore, this.insertOperation, this.table, statement);
  }

  /**
   * A group of writes as one statement (see GroupWriteStatement), sent in the log's ordering; when
   * another writer's row makes it fail as a whole, the writes go one at a time, each refused or
   * accepted on its own.
   */
  protected override async inGroup(writes: readonly EventsWrite[], steps: WriteSteps<WriteStatement>): Promise<Array<number[] | Error>> {
    if (writes.length < 2) return super.inGroup(writes, steps);
    this.checkUsable('insertEvents');
    await this.createTables();
    const group = new GroupWriteStatement(this.table, writes);
    try {
      await this.ordering.write(this.datastore, this.insertOperation, this.table, group);
    } catch (error) {
      if (!(error instanceof RecordConflictError)) throw error;
      return super.inGroup(writes, steps);
    }
    return group.outcomes(this.insertOperation);
  }

  protected override writeEvents(statement: WriteStatement, write: EventsWrite): void {
    statement.insertEvents(write.events, write.pipelineId);
  }

  protected override notificationIds(statement: WriteStatement): number[] {
    return statement.notificationIds();
  }

  protected override tableDefinitions(): TableDefinition[] {
    return [eventsTable(this.table)];
  }
}

/**
 * Adds tracking (`<app>_tracking`): per upstream application and pipeline, the last notification
 * processed, moved by compare-and-set in the same statement as the events.
 */
export class PostgresProcessRecorder extends PostgresApplicationRecorder implements ProcessRecorder, ViewRecorder {
  protected override readonly rung: Rung = PROCESS_RUNG;
  readonly viewDialect = 'postgres';

  /**
   * One transaction on one pooled connection: `work` with the transaction's statements, sent in
   * order without waiting for each; every one of them (tracking records' compare-and-sets included)
   * is checked before COMMIT.
   */
  async writeView<T>(work: (transaction: ViewTransaction) => T | Promise<T>): Promise<T> {
    this.checkUsable('writeView');
    await this.createTables();
    const { schema } = this.tables.tracking;
    return this.datastore.transaction(this.operation('writeView'), async (session) => {
      // Statements go one after another on the connection (node-postgres wants one query at a time), without the work waiting for each.
      const sent: Promise<unknown>[] = [];
      let last: Promise<unknown> = Promise.resolve();
      let open = true;
      const sending = <R>(query: () => Promise<R>): Promise<R> => {
        if (!open) throw viewTransactionEnded();
        const next = last.then(query);
        next.catch(() => undefined); // awaited below, in order
        last = next.catch(() => undefined);
        sent.push(next);
        return next;
      };
      const send = <R>(sql: string, params: readonly unknown[] = []): Promise<R[]> => sending(() => session.rows(numberPlaceholders(sql), params) as Promise<R[]>);
      const transaction: SqlTransaction = {
        dialect: 'postgres',
        trackingTable: this.tables.tracking.sql,
        qualify: (name) => relation(schema, name).sql,
        track: (tracking) => {
          checkTracking(tracking);
          const statement = new WriteStatement(this.tables.tracking);
          statement.advanceTracking(this.tables.tracking, tracking);
          sending(() => statement.run(session));
        },
        run: (sql, params) => void send(sql, params),
        all: send,
      };
      try {
        const result = await work(transaction);
        for (let index = 0; index < sent.length; index++) await sent[index]; // (more may be sent meanwhile)
        return result;
      } catch (error) {
        // Nothing may reach the connection once the transaction rolls back (it would run outside it).
        open = false;
        await Promise.allSettled(sent);
        throw error;
      } finally {
        open = false;
      }
    });
  }

  async queryView<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    this.checkUsable('queryView');
    return this.datastore.rows(this.operation('queryView'), numberPlaceholders(sql), [...params]) as Promise<R[]>;
  }

  qualify(name: string): string {
    return relation(this.tables.tracking.schema, name).sql;
  }

  async trackingPositions(): Promise<TrackingPosition[]> {
    this.checkUsable('trackingPositions');
    await this.createTables();
    const rows = await this.datastore.queryArrays(
      this.operation('trackingPositions'),
      `SELECT application_name, pipeline_id, notification_id FROM ${this.tables.tracking.sql} ORDER BY 1, 2`,
      [],
    );
    return rows.map(([applicationName, pipelineId, notificationId]) => ({
      applicationName: applicationName as string,
      pipelineId: Number(pipelineId),
      notificationId: Number(notificationId),
    }));
  }

  async maxTrackingId(applicationName: string, pipelineId = 0): Promise<number> {
    this.checkUsable('maxTrackingId');
    const pipeline = checkTrackingPosition(applicationName, pipelineId);
    await this.createTables();
    return selectTrackingPosition(this.datastore.session(this.operation('maxTrackingId')), this.tables.tracking, applicationName, pipeline);
  }

  protected override writeTracking(statement: WriteStatement, tracking: Tracking): void {
    statement.advanceTracking(this.tables.tracking, tracking);
  }

  protected override tableDefinitions(): TableDefinition[] {
    return [eventsTable(this.table), trackingTable(this.tables.tracking)];
  }
}
