import { RecordConflictError, trackingConflict } from '../errors';
import type { Notification, StoredEvent } from '../records';
import type {
  AggregateRecorder,
  ApplicationRecorder,
  InsertEventsOptions,
  ProcessRecorder,
  SelectEventsOptions,
  SelectNotificationsOptions,
} from '../recorders';
import {
  checkPipelineId,
  checkSelectNotifications,
  checkStoredEvents,
  checkTracking,
} from '../validation';

/** Index of the first element whose key is >= `key` in an array sorted by key. */
function lowerBound<T>(items: readonly T[], key: number, keyOf: (item: T) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keyOf(items[middle]) < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

const versionOf = (event: StoredEvent): number => event.originatorVersion;

const conflict = (event: StoredEvent) =>
  new RecordConflictError(`version ${event.originatorVersion} of aggregate ${event.originatorId} is already recorded`);
const idOf = (notification: Notification): number => notification.id;

/**
 * Events of aggregates held in memory. Every method does its work synchronously inside the
 * returned promise, so one call is atomic with respect to every other.
 */
export class MemoryAggregateRecorder implements AggregateRecorder {
  protected readonly eventsByOriginator = new Map<string, StoredEvent[]>();

  async insertEvents(events: readonly StoredEvent[], options: InsertEventsOptions = {}): Promise<number[]> {
    this.checkInsert(events, options);
    this.store(events);
    return [];
  }

  async selectEvents(originatorId: string, options: SelectEventsOptions = {}): Promise<StoredEvent[]> {
    const events = this.eventsByOriginator.get(originatorId);
    if (events === undefined) return [];
    const from = options.gt === undefined ? 0 : lowerBound(events, options.gt + 1, versionOf);
    const to = options.lte === undefined ? events.length : lowerBound(events, options.lte + 1, versionOf);
    if (from >= to) return [];
    const limit = options.limit ?? Infinity;
    if (options.desc) return events.slice(Math.max(from, to - limit), to).reverse();
    return events.slice(from, Math.min(to, from + limit));
  }

  async close(): Promise<void> {}

  /** Throws, before anything is written, if any event's version is taken (also within the batch). */
  protected checkInsert(events: readonly StoredEvent[], _options: InsertEventsOptions): void {
    checkStoredEvents(events);
    if (events.length === 1) {
      if (this.isTaken(events[0])) throw conflict(events[0]);
      return;
    }
    const batch = new Map<string, Set<number>>();
    for (const event of events) {
      let versions = batch.get(event.originatorId);
      if (versions === undefined) {
        versions = new Set();
        batch.set(event.originatorId, versions);
      }
      if (versions.has(event.originatorVersion) || this.isTaken(event)) throw conflict(event);
      versions.add(event.originatorVersion);
    }
  }

  private isTaken(event: StoredEvent): boolean {
    const existing = this.eventsByOriginator.get(event.originatorId);
    if (existing === undefined || existing.length === 0) return false;
    if (existing[existing.length - 1].originatorVersion < event.originatorVersion) return false;
    return existing[lowerBound(existing, event.originatorVersion, versionOf)]?.originatorVersion === event.originatorVersion;
  }

  protected store(events: readonly StoredEvent[]): void {
    for (const event of events) {
      let existing = this.eventsByOriginator.get(event.originatorId);
      if (existing === undefined) {
        existing = [];
        this.eventsByOriginator.set(event.originatorId, existing);
      }
      if (existing.length === 0 || existing[existing.length - 1].originatorVersion < event.originatorVersion) {
        existing.push(event);
      } else {
        existing.splice(lowerBound(existing, event.originatorVersion, versionOf), 0, event);
      }
    }
  }
}

/** Adds the notification log: one array in id order, and one per pipeline. */
export class MemoryApplicationRecorder extends MemoryAggregateRecorder implements ApplicationRecorder {
  protected readonly notifications: Notification[] = [];
  protected readonly notificationsByPipeline = new Map<number, Notification[]>();

  override async insertEvents(events: readonly StoredEvent[], options: InsertEventsOptions = {}): Promise<number[]> {
    this.checkInsert(events, options);
    return this.storeWithNotifications(events, checkPipelineId(options.pipelineId));
  }

  protected storeWithNotifications(events: readonly StoredEvent[], pipelineId: number): number[] {
    this.store(events);
    let pipeline = this.notificationsByPipeline.get(pipelineId);
    if (pipeline === undefined) {
      pipeline = [];
      this.notificationsByPipeline.set(pipelineId, pipeline);
    }
    const ids = new Array<number>(events.length);
    for (let index = 0; index < events.length; index++) {
      const event = events[index];
      const notification: Notification = {
        id: this.notifications.length + 1,
        originatorId: event.originatorId,
        originatorVersion: event.originatorVersion,
        topic: event.topic,
        state: event.state,
        pipelineId,
      };
      this.notifications.push(notification);
      pipeline.push(notification);
      ids[index] = notification.id;
    }
    return ids;
  }

  async selectNotifications(
    start: number,
    limit: number,
    options: SelectNotificationsOptions = {},
  ): Promise<Notification[]> {
    checkSelectNotifications(start, limit, options);
    const source =
      options.pipelineId === undefined ? this.notifications : this.notificationsByPipeline.get(options.pipelineId) ?? [];
    const first = options.inclusiveOfStart === false ? start + 1 : start;
    const stop = options.stop ?? Infinity;
    const topics = options.topics && options.topics.length > 0 ? new Set(options.topics) : undefined;
    const selected: Notification[] = [];
    for (let index = lowerBound(source, first, idOf); index < source.length && selected.length < limit; index++) {
      const notification = source[index];
      if (notification.id > stop) break;
      if (topics === undefined || topics.has(notification.topic)) selected.push(notification);
    }
    return selected;
  }

  async maxNotificationId(pipelineId?: number): Promise<number> {
    const source = pipelineId === undefined ? this.notifications : this.notificationsByPipeline.get(checkPipelineId(pipelineId));
    return source === undefined || source.length === 0 ? 0 : source[source.length - 1].id;
  }
}

/** Adds tracking: the last processed notification id per upstream application and pipeline. */
export class MemoryProcessRecorder extends MemoryApplicationRecorder implements ProcessRecorder {
  protected readonly positions = new Map<string, number>();

  override async insertEvents(events: readonly StoredEvent[], options: InsertEventsOptions = {}): Promise<number[]> {
    const tracking = options.tracking;
    let key: string | undefined;
    if (tracking !== undefined) {
      // Tracking first, as every recorder checks it: a write that conflicts on both raises
      // TrackingConflictError (someone else processed these notifications).
      checkTracking(tracking);
      key = trackingKey(tracking.applicationName, tracking.pipelineId ?? 0);
      const current = this.positions.get(key) ?? 0;
      if (current !== tracking.previousNotificationId) throw trackingConflict(tracking, current);
    }
    this.checkInsert(events, options);
    const ids = this.storeWithNotifications(events, checkPipelineId(options.pipelineId));
    if (key !== undefined) this.positions.set(key, tracking!.notificationId);
    return ids;
  }

  async maxTrackingId(applicationName: string, pipelineId = 0): Promise<number> {
    return this.positions.get(trackingKey(applicationName, checkPipelineId(pipelineId))) ?? 0;
  }
}

function trackingKey(applicationName: string, pipelineId: number): string {
  return `${pipelineId}:${applicationName}`;
}
