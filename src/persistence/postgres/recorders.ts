import { OperationalError } from '../errors';
import type { Notification, StoredEvent, Tracking } from '../records';
import type {
  AggregateRecorder,
  ApplicationRecorder,
  InsertEventsOptions,
  ProcessRecorder,
  SelectEventsOptions,
  SelectNotificationsOptions,
} from '../recorders';
import {
  checkDistinctVersions,
  checkPipelineId,
  checkSelectNotifications,
  checkStoredEvents,
  checkTracking,
  checkTrackingPosition,
} from '../validation';
import { aggregateEventsTable, createTables, eventsTable, trackingTable, type TableDefinition } from './create-tables';
import type { PostgresDatastore } from './datastore';
import { insertAggregateEvents, insertNotifiedEvents, lockTableStatement } from './insert-events';
import { maxNotificationIdById, maxNotificationIdByWatermark } from './max-notification-id';
import { maxTrackingId } from './max-tracking-id';
import { selectEvents } from './select-events';
import { selectNotificationsById, selectNotificationsByWatermark } from './select-notifications';
import type { ApplicationTables, Relation } from './tables';
import { advanceTracking } from './advance-tracking';
import { writeInOneStatement } from './write-in-one-statement';

function checkBatch(events: readonly StoredEvent[], where: string): void {
  checkStoredEvents(events);
  checkDistinctVersions(events, where);
}

/**
 * Events of aggregates in one PostgreSQL table (`<app>_<purpose>`, e.g. snapshots), with optimistic
 * concurrency from its primary key (originator_id, originator_version). Tables are created on first
 * use. Recorders of one factory share its pool; `close()` only retires this recorder (the factory
 * ends the pool).
 */
export class PostgresAggregateRecorder implements AggregateRecorder {
  private retired = false;
  /** Set once this recorder's tables are known to exist (so later calls skip the check). */
  private tablesExist = false;

  constructor(
    protected readonly datastore: PostgresDatastore,
    /** The table the events are stored in. */
    readonly table: Relation,
  ) {}

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

  async insertEvents(events: readonly StoredEvent[], _options: InsertEventsOptions = {}): Promise<number[]> {
    this.checkUsable('insertEvents');
    checkBatch(events, this.operation('insertEvents'));
    if (events.length === 0) return [];
    await this.createTables();
    await insertAggregateEvents(this.datastore, this.operation('insertEvents'), this.table, events);
    return [];
  }

  async selectEvents(originatorId: string, options: SelectEventsOptions = {}): Promise<StoredEvent[]> {
    this.checkUsable('selectEvents');
    await this.createTables();
    return selectEvents(this.datastore, this.table, originatorId, options);
  }

  async close(): Promise<void> {
    this.retired = true;
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
  constructor(
    datastore: PostgresDatastore,
    protected readonly tables: ApplicationTables,
  ) {
    super(datastore, tables.events);
  }

  get visibleOnWrite(): boolean {
    return this.datastore.options.ordering === 'lock';
  }

  override async insertEvents(events: readonly StoredEvent[], options: InsertEventsOptions = {}): Promise<number[]> {
    this.checkUsable('insertEvents');
    checkBatch(events, this.operation('insertEvents'));
    const pipelineId = checkPipelineId(options.pipelineId);
    const tracking = this.trackingOf(options);
    if (events.length === 0 && tracking === undefined) return [];
    await this.createTables();
    if (this.datastore.options.ordering === 'watermark') {
      return writeInOneStatement(this.datastore, this.operation('insertEvents'), this.tables, events, pipelineId, tracking);
    }
    const lock = events.length > 0;
    return this.datastore.transaction(
      this.operation('insertEvents'),
      async (client) => {
        // Tracking first, as every recorder checks it: a write that conflicts on both raises
        // TrackingConflictError (someone else processed these notifications).
        if (tracking !== undefined) await advanceTracking(client, this.tables.tracking, tracking);
        return events.length === 0 ? [] : insertNotifiedEvents(client, this.table, events, pipelineId);
      },
      // One round trip; the lock is taken before anything else, so writers cannot deadlock on it.
      lock ? `BEGIN; ${lockTableStatement(this.table)}` : 'BEGIN',
    );
  }

  async selectNotifications(start: number, limit: number, options: SelectNotificationsOptions = {}): Promise<Notification[]> {
    this.checkUsable('selectNotifications');
    checkSelectNotifications(start, limit, options);
    await this.createTables();
    return this.datastore.options.ordering === 'lock'
      ? selectNotificationsById(this.datastore, this.table, start, limit, options)
      : selectNotificationsByWatermark(this.datastore, this.table, start, limit, options);
  }

  async maxNotificationId(pipelineId?: number): Promise<number> {
    this.checkUsable('maxNotificationId');
    const pipeline = pipelineId === undefined ? undefined : checkPipelineId(pipelineId);
    await this.createTables();
    return this.datastore.options.ordering === 'lock'
      ? maxNotificationIdById(this.datastore, this.table, pipeline)
      : maxNotificationIdByWatermark(this.datastore, this.table, pipeline);
  }

  protected override tableDefinitions(): TableDefinition[] {
    return [eventsTable(this.table)];
  }

  /** Application recorders ignore tracking, as the memory recorders do. */
  protected trackingOf(_options: InsertEventsOptions): Tracking | undefined {
    return undefined;
  }
}

/**
 * Adds tracking (`<app>_tracking`): per upstream application and pipeline, the last notification
 * processed, moved by compare-and-set in the same transaction as the events.
 */
export class PostgresProcessRecorder extends PostgresApplicationRecorder implements ProcessRecorder {
  async maxTrackingId(applicationName: string, pipelineId = 0): Promise<number> {
    this.checkUsable('maxTrackingId');
    const pipeline = checkTrackingPosition(applicationName, pipelineId);
    await this.createTables();
    return maxTrackingId(this.datastore, this.tables.tracking, applicationName, pipeline);
  }

  protected override tableDefinitions(): TableDefinition[] {
    return [eventsTable(this.table), trackingTable(this.tables.tracking)];
  }

  protected override trackingOf(options: InsertEventsOptions): Tracking | undefined {
    if (options.tracking !== undefined) checkTracking(options.tracking);
    return options.tracking;
  }
}
