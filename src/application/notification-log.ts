import { DataError } from '../domain';
import type { ApplicationRecorder, Notification, SelectNotificationsOptions } from '../persistence';

/** A part of a notification log, addressed as "first,last" (notification ids). */
export interface Section {
  /** "first,last" of the items returned, or null when there are none. */
  readonly id: string | null;
  readonly items: readonly Notification[];
  /** The id of the following section, or null when this one is not full (the end of the log). */
  readonly nextId: string | null;
}

/** An application's notification log, read in sections or by position. */
export class NotificationLog {
  constructor(
    readonly recorder: ApplicationRecorder,
    readonly sectionSize = 10,
  ) {}

  /** Up to `limit` notifications in log order from notification id `start`. */
  select(start: number, limit: number, options?: SelectNotificationsOptions): Promise<Notification[]> {
    return this.recorder.selectNotifications(start, limit, options);
  }

  /** The section "start,end": at most `sectionSize` notifications from `start`. */
  async section(sectionId: string): Promise<Section> {
    const match = /^(\d+),(\d+)$/.exec(sectionId);
    if (match === null) throw new DataError(`section id must look like "1,10", got '${sectionId}'`);
    const start = Math.max(Number(match[1]), 1);
    const end = Number(match[2]);
    if (end < start) throw new DataError(`section '${sectionId}' ends before it starts`);
    const limit = Math.min(end - start + 1, this.sectionSize);
    const items = await this.select(start, limit);
    if (items.length === 0) return { id: null, items, nextId: null };
    const last = items[items.length - 1].id;
    return {
      id: `${items[0].id},${last}`,
      items,
      nextId: items.length === limit ? `${last + 1},${last + limit}` : null,
    };
  }
}
