import { tableName } from '../names';
import type { Notification, StoredEvent } from '../records';
import type { ApplicationRecorder, InsertEventsOptions, SelectNotificationsOptions } from '../recorders';
import { checkPipelineId, checkSelectNotifications } from '../validation';
import { SqliteAggregateRecorder } from './aggregate-recorder';
import type { SqliteConnection } from './connection';
import { NotificationRow, toNotification } from './rows';
import { createEventsTable } from './schema';

/**
 * Adds the notification log: the table `<application>_events`, whose rowid is the notification id.
 * SQLite serialises writers and gives each row a rowid above every committed one, so ids ascend in
 * commit order and a reader following "id > last" misses nothing.
 */
export class SqliteApplicationRecorder extends SqliteAggregateRecorder implements ApplicationRecorder {
  constructor(connection: SqliteConnection, applicationName: string) {
    super(connection, tableName(applicationName, 'events'), createEventsTable);
  }

  protected override checkInsert(events: readonly StoredEvent[], options: InsertEventsOptions): void {
    super.checkInsert(events, options);
    checkPipelineId(options.pipelineId);
  }

  protected override write(events: readonly StoredEvent[], options: InsertEventsOptions): number[] {
    const pipelineId = options.pipelineId ?? 0;
    const insert = this.statement(
      `INSERT INTO ${this.table} (originator_id, originator_version, topic, state, pipeline_id) VALUES (?, ?, ?, ?, ?)`,
    );
    return events.map((event) =>
      Number(
        this.insertOne(event, () =>
          insert.run(event.originatorId, event.originatorVersion, event.topic, event.state, pipelineId),
        ).lastInsertRowid,
      ),
    );
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
    const columns = 'id, originator_id, originator_version, topic, state, pipeline_id';
    const topicFilter = 'AND topic IN (SELECT value FROM json_each(?))';
    return this.run('selectNotifications', () => {
      let rows: NotificationRow[];
      if (pipelineId === undefined) {
        rows = (
          topics === undefined
            ? this.statement(`SELECT ${columns} FROM ${this.table} WHERE id >= ? AND id <= ? ORDER BY id LIMIT ?`).all(
                first,
                stop,
                limit,
              )
            : this.statement(
                `SELECT ${columns} FROM ${this.table} WHERE id >= ? AND id <= ? ${topicFilter} ORDER BY id LIMIT ?`,
              ).all(first, stop, topics, limit)
        ) as NotificationRow[];
      } else {
        rows = (
          topics === undefined
            ? this.statement(
                `SELECT ${columns} FROM ${this.table} WHERE pipeline_id = ? AND id >= ? AND id <= ? ORDER BY id LIMIT ?`,
              ).all(pipelineId, first, stop, limit)
            : this.statement(
                `SELECT ${columns} FROM ${this.table}
                 WHERE pipeline_id = ? AND id >= ? AND id <= ? ${topicFilter} ORDER BY id LIMIT ?`,
              ).all(pipelineId, first, stop, topics, limit)
        ) as NotificationRow[];
      }
      return rows.map(toNotification);
    });
  }

  async maxNotificationId(pipelineId?: number): Promise<number> {
    if (pipelineId === undefined) {
      return this.run('maxNotificationId', () => {
        const row = this.statement(`SELECT COALESCE(MAX(id), 0) AS max_id FROM ${this.table}`).get() as { max_id: number };
        return row.max_id;
      });
    }
    const pipeline = checkPipelineId(pipelineId);
    return this.run('maxNotificationId', () => {
      const row = this.statement(
        `SELECT COALESCE(MAX(id), 0) AS max_id FROM ${this.table} WHERE pipeline_id = ?`,
      ).get(pipeline) as { max_id: number };
      return row.max_id;
    });
  }
}
