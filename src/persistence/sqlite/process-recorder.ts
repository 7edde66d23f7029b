import { DataError } from '../../domain/errors';
import { trackingConflict } from '../errors';
import { PROCESS_RUNG, type Rung } from '../insert-events';
import { quoteIdentifier, tableName } from '../names';
import type { Tracking } from '../records';
import type { ProcessRecorder } from '../recorders';
import { checkTracking, checkTrackingPosition } from '../validation';
import { viewTransactionEnded, type SqlTransaction, type TrackingPosition, type ViewRecorder, type ViewTransaction } from '../views';
import { SqliteApplicationRecorder } from './application-recorder';
import type { SqliteConnection } from './connection';
import { createTrackingTable } from './schema';

/**
 * Adds tracking: `<application>_tracking` keeps, per upstream application and pipeline, the last
 * notification id processed. A tracking record is written in the same immediate transaction as the
 * events and only ever advances the position; one that does not raises TrackingConflictError and
 * the whole write is rolled back.
 */
export class SqliteProcessRecorder extends SqliteApplicationRecorder implements ProcessRecorder, ViewRecorder {
  protected override readonly rung: Rung = PROCESS_RUNG;
  readonly viewDialect = 'sqlite';
  private readonly trackingSql: { readonly insert: string; readonly update: string; readonly position: string; readonly all: string };
  private readonly trackingTable: string;

  constructor(connection: SqliteConnection, applicationName: string) {
    super(connection, applicationName);
    const name = tableName(applicationName, 'tracking');
    createTrackingTable(connection, name);
    const table = quoteIdentifier(name);
    this.trackingTable = table;
    this.trackingSql = {
      all: `SELECT application_name AS applicationName, pipeline_id AS pipelineId, notification_id AS notificationId FROM ${table} ORDER BY 1, 2`,
      insert: `INSERT INTO ${table} (application_name, pipeline_id, notification_id) VALUES (?, ?, ?)
             ON CONFLICT (application_name, pipeline_id) DO NOTHING`,
      update: `UPDATE ${table} SET notification_id = ?
             WHERE application_name = ? AND pipeline_id = ? AND notification_id = ?`,
      position: `SELECT notification_id FROM ${table} WHERE application_name = ? AND pipeline_id = ?`,
    };
  }

  /** One immediate transaction: `work` with the transaction's statements (synchronous: a promise from it rolls it back). */
  async writeView<T>(work: (transaction: ViewTransaction) => T | Promise<T>): Promise<T> {
    return this.run('writeView', (db) => {
      const transaction = this.viewTransaction();
      try {
        return db
          .transaction(() => {
            const result = work(transaction);
            if (result instanceof Promise) {
              result.catch(() => undefined);
              throw new DataError(
                `a view's writes on SQLite run inside a synchronous transaction (the thread's connection is shared): ` +
                  `the work returned a promise, so nothing of it was kept; make the view's update synchronous`,
              );
            }
            return result;
          })
          .immediate();
      } finally {
        transaction.end();
      }
    });
  }

  async queryView<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return this.run('queryView', () => this.statement(sql).all(...params) as R[]);
  }

  qualify(name: string): string {
    return quoteIdentifier(name);
  }

  async trackingPositions(): Promise<TrackingPosition[]> {
    return this.run('trackingPositions', () => this.statement(this.trackingSql.all).all() as TrackingPosition[]);
  }

  async maxTrackingId(applicationName: string, pipelineId = 0): Promise<number> {
    const pipeline = checkTrackingPosition(applicationName, pipelineId);
    return this.run('maxTrackingId', () => this.position(applicationName, pipeline));
  }

  /**
   * Moves the upstream's position from `previousNotificationId` to the tracked notification, or
   * throws TrackingConflictError when the recorded position is no longer the one processing began at.
   */
  protected override writeTracking(_ids: number[], tracking: Tracking): void {
    const pipelineId = tracking.pipelineId ?? 0;
    const { changes } =
      tracking.previousNotificationId === 0
        ? this.statement(this.trackingSql.insert).run(tracking.applicationName, pipelineId, tracking.notificationId)
        : this.statement(this.trackingSql.update).run(tracking.notificationId, tracking.applicationName, pipelineId, tracking.previousNotificationId);
    if (changes === 0) throw trackingConflict(tracking, this.position(tracking.applicationName, pipelineId));
  }

  /** The statements of one view transaction, run at once on this thread's connection; refused once it has ended. */
  private viewTransaction(): SqlTransaction & { end(): void } {
    let open = true;
    const check = () => {
      if (!open) throw viewTransactionEnded();
    };
    return {
      dialect: 'sqlite',
      trackingTable: this.trackingTable,
      qualify: quoteIdentifier,
      track: (tracking) => {
        check();
        checkTracking(tracking);
        this.writeTracking([], tracking);
      },
      run: (sql, params = []) => {
        check();
        this.statement(sql).run(...params);
      },
      all: <R>(sql: string, params: readonly unknown[] = []) => {
        check();
        return this.statement(sql).all(...params) as R[];
      },
      end: () => {
        open = false;
      },
    };
  }

  private position(applicationName: string, pipelineId: number): number {
    const row = this.statement(this.trackingSql.position).get(applicationName, pipelineId) as
      | { notification_id: number }
      | undefined;
    return row?.notification_id ?? 0;
  }
}
