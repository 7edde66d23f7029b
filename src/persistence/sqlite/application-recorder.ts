import { APPLICATION_RUNG, type EventsWrite, type Rung } from '../insert-events';
import { tableName } from '../names';
import type { Notification } from '../records';
import type { ApplicationRecorder, SelectNotificationsOptions } from '../recorders';
import { checkPipelineId, checkSelectNotifications } from '../validation';
import { SqliteAggregateRecorder, withLimit } from './aggregate-recorder';
import type { SqliteConnection } from './connection';
import { NOTIFICATION_COLUMNS, NotificationTuple, toNotifications } from './rows';
import { createEventsTable } from './schema';

/**
 * Adds the notification log: the table `<application>_events`, whose rowid is the notification id.
 * SQLite serialises writers and gives each row a rowid above every committed one, so ids ascend in
 * commit order and a reader following "id > last" misses nothing.
 */
export class SqliteApplicationRecorder extends SqliteAggregateRecorder implements ApplicationRecorder {
  protected override readonly rung: Rung = APPLICATION_RUNG;

  private readonly sql: {
    readonly insert: string;
    /** selectNotifications, by [pipeline given][topics given]. */
    readonly select: readonly [readonly [string, string], readonly [string, string]];
    readonly maxId: string;
    readonly maxIdOfPipeline: string;
  };

  constructor(connection: SqliteConnection, applicationName: string) {
    super(connection, tableName(applicationName, 'events'), createEventsTable);
    const select = (pipeline: boolean, topics: boolean) =>
      `SELECT ${NOTIFICATION_COLUMNS} FROM ${this.table}
       WHERE ${pipeline ? 'pipeline_id = ? AND ' : ''}id >= ? AND id <= ?${topics ? ' AND topic IN (SELECT value FROM json_each(?))' : ''}
       ORDER BY id`;
    this.sql = {
      insert: `INSERT INTO ${this.table} (originator_id, originator_version, topic, state, pipeline_id) VALUES (?, ?, ?, ?, ?)`,
      select: [
        [select(false, false), select(false, true)],
        [select(true, false), select(true, true)],
      ],
      maxId: `SELECT COALESCE(MAX(id), 0) AS max_id FROM ${this.table}`,
      maxIdOfPipeline: `SELECT COALESCE(MAX(id), 0) AS max_id FROM ${this.table} WHERE pipeline_id = ?`,
    };
  }

  protected override writeEvents(ids: number[], write: EventsWrite): void {
    const { pipelineId } = write;
    this.insertEach(this.sql.insert, write.events, (insert, event) => {
      ids.push(Number(insert.run(event.originatorId, event.originatorVersion, event.topic, event.state, pipelineId).lastInsertRowid));
    });
  }

  protected override notificationIds(ids: number[]): number[] {
    return ids;
  }

  async selectNotifications(
    start: number,
    limit: number,
    options: SelectNotificationsOptions = {},
  ): Promise<Notification[]> {
    checkSelectNotifications(start, limit, options);
    const first = options.inclusiveOfStart === false ? start + 1 : start;
    const stop = options.stop ?? Number.MAX_SAFE_INTEGER;
    const topics = options.topics !== undefined && options.topics.length > 0 ? JSON.stringify(options.topics) : undefined;
    const { pipelineId } = options;
    return this.run('selectNotifications', () => {
      const statement = this.rawStatement(withLimit(this.sql.select[pipelineId === undefined ? 0 : 1][topics === undefined ? 0 : 1], limit));
      let rows: NotificationTuple[];
      if (pipelineId === undefined) {
        rows = (topics === undefined ? statement.all(first, stop) : statement.all(first, stop, topics)) as NotificationTuple[];
      } else {
        rows = (topics === undefined ? statement.all(pipelineId, first, stop) : statement.all(pipelineId, first, stop, topics)) as NotificationTuple[];
      }
      return toNotifications(rows);
    });
  }

  async maxNotificationId(pipelineId?: number): Promise<number> {
    if (pipelineId === undefined) {
      return this.run('maxNotificationId', () => this.pluckStatement(this.sql.maxId).get() as number);
    }
    const pipeline = checkPipelineId(pipelineId);
    return this.run('maxNotificationId', () => this.pluckStatement(this.sql.maxIdOfPipeline).get(pipeline) as number);
  }
}
