import { trackingConflict } from '../errors';
import { PROCESS_RUNG, type Rung } from '../insert-events';
import { quoteIdentifier, tableName } from '../names';
import type { Tracking } from '../records';
import type { ProcessRecorder } from '../recorders';
import { checkTrackingPosition } from '../validation';
import { SqliteApplicationRecorder } from './application-recorder';
import type { SqliteConnection } from './connection';
import { createTrackingTable } from './schema';

/**
 * Adds tracking: `<application>_tracking` keeps, per upstream application and pipeline, the last
 * notification id processed. A tracking record is written in the same immediate transaction as the
 * events and only ever advances the position; one that does not raises TrackingConflictError and
 * the whole write is rolled back.
 */
export class SqliteProcessRecorder extends SqliteApplicationRecorder implements ProcessRecorder {
  protected override readonly rung: Rung = PROCESS_RUNG;
  private readonly trackingSql: { readonly insert: string; readonly update: string; readonly position: string };

  constructor(connection: SqliteConnection, applicationName: string) {
    super(connection, applicationName);
    const name = tableName(applicationName, 'tracking');
    createTrackingTable(connection, name);
    const table = quoteIdentifier(name);
    this.trackingSql = {
      insert: `INSERT INTO ${table} (application_name, pipeline_id, notification_id) VALUES (?, ?, ?)
             ON CONFLICT (application_name, pipeline_id) DO NOTHING`,
      update: `UPDATE ${table} SET notification_id = ?
             WHERE application_name = ? AND pipeline_id = ? AND notification_id = ?`,
      position: `SELECT notification_id FROM ${table} WHERE application_name = ? AND pipeline_id = ?`,
    };
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

  private position(applicationName: string, pipelineId: number): number {
    const row = this.statement(this.trackingSql.position).get(applicationName, pipelineId) as
      | { notification_id: number }
      | undefined;
    return row?.notification_id ?? 0;
  }
}
