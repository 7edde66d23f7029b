import { trackingConflict, versionConflict } from '../errors';
import { AGGREGATE_RUNG, APPLICATION_RUNG, InsertEventsTemplate, PROCESS_RUNG, type EventsWrite, type Rung, type WriteSteps } from '../insert-events';
import type { Notification, StoredEvent, Tracking } from '../records';
import type {
  AggregateRecorder,
  ApplicationRecorder,
  ProcessRecorder,
  SelectEventsOptions,
  SelectNotificationsOptions,
} from '../recorders';
import { DataError } from '../../domain/errors';
import { checkPipelineId, checkSelectNotifications, checkTracking, checkTrackingPosition } from '../validation';
import { viewTransactionEnded, type TrackingPosition, type ViewRecorder, type ViewTransaction } from '../views';

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

const itself = (id: number): number => id;
const versionOf = (event: StoredEvent): number => event.originatorVersion;

/** An aggregate's only event, kept without a list (a list of events has no originatorId). */
const isOne = (stored: StoredEvent | StoredEvent[]): stored is StoredEvent =>
  typeof (stored as Partial<StoredEvent>).originatorId === 'string';

/** A write in progress: the notification ids it gave, and how to undo its tracking should its events fail. */
interface MemoryTransaction {
  ids: number[];
  undoTracking?: () => void;
}

const NO_IDS: number[] = [];

/**
 * Events of aggregates held in memory. Every method does its work synchronously inside the
 * returned promise, so one call is atomic with respect to every other.
 */
export class MemoryAggregateRecorder extends InsertEventsTemplate<MemoryTransaction> implements AggregateRecorder {
  protected readonly rung: Rung = AGGREGATE_RUNG;
  protected readonly insertOperation = 'insertEvents';
  /** Each aggregate's events in version order. */
  protected readonly eventsByOriginator = new Map<string, StoredEvent | StoredEvent[]>();

  async selectEvents(originatorId: string, options: SelectEventsOptions = {}): Promise<StoredEvent[]> {
    const stored = this.eventsByOriginator.get(originatorId);
    if (stored === undefined) return [];
    const events = isOne(stored) ? [stored] : stored;
    const from = options.gt === undefined ? 0 : lowerBound(events, options.gt + 1, versionOf);
    const to = options.lte === undefined ? events.length : lowerBound(events, options.lte + 1, versionOf);
    if (from >= to) return [];
    const limit = options.limit ?? Infinity;
    if (options.desc) return events.slice(Math.max(from, to - limit), to).reverse();
    return events.slice(from, Math.min(to, from + limit));
  }

  async close(): Promise<void> {}

  protected inTransaction(write: EventsWrite, steps: WriteSteps<MemoryTransaction>): MemoryTransaction {
    const transaction: MemoryTransaction = { ids: NO_IDS };
    try {
      steps(transaction, write);
    } catch (error) {
      transaction.undoTracking?.();
      throw error;
    }
    return transaction;
  }

  protected writeEvents(_transaction: MemoryTransaction, write: EventsWrite): void {
    this.store(write.events);
  }

  /**
   * Adds each event to its aggregate's events, or, when any version is taken (also by an earlier
   * event of the same batch), throws RecordConflictError and leaves everything as it was. The
   * events must have been checked (checkStoredEvents).
   */
  protected store(events: readonly StoredEvent[]): void {
    const count = events.length;
    for (let index = 0; index < count; index++) {
      const event = events[index];
      if (!this.add(event)) {
        this.remove(events, index);
        throw versionConflict(this.insertOperation, event);
      }
    }
  }

  /** Adds one event to its aggregate's events; false (and nothing added) when its version is taken. */
  private add(event: StoredEvent): boolean {
    const existing = this.eventsByOriginator.get(event.originatorId);
    if (existing === undefined) {
      this.eventsByOriginator.set(event.originatorId, event);
      return true;
    }
    const version = event.originatorVersion;
    if (isOne(existing)) {
      if (existing.originatorVersion === version) return false;
      this.eventsByOriginator.set(event.originatorId, existing.originatorVersion < version ? [existing, event] : [event, existing]);
      return true;
    }
    const length = existing.length;
    if (length === 0 || existing[length - 1].originatorVersion < version) {
      existing.push(event);
      return true;
    }
    const at = lowerBound(existing, version, versionOf);
    if (existing[at].originatorVersion === version) return false;
    existing.splice(at, 0, event);
    return true;
  }

  /** Takes out again the first `count` events of a batch that store() added (newest first). */
  private remove(events: readonly StoredEvent[], count: number): void {
    for (let index = count - 1; index >= 0; index--) {
      const event = events[index];
      const existing = this.eventsByOriginator.get(event.originatorId)!;
      if (isOne(existing)) {
        this.eventsByOriginator.delete(event.originatorId);
        continue;
      }
      existing.splice(existing.lastIndexOf(event), 1);
      if (existing.length === 0) this.eventsByOriginator.delete(event.originatorId);
    }
  }
}

/**
 * Adds the notification log. Notification id n is the n-th event recorded: the log is kept as the
 * recorded events and their pipeline ids by position, with the ids of each pipeline's notifications
 * in a list of its own; notifications are made when they are read.
 */
export class MemoryApplicationRecorder extends MemoryAggregateRecorder implements ApplicationRecorder {
  protected override readonly rung: Rung = APPLICATION_RUNG;

  /** The event of notification id n is at n - 1. */
  protected readonly logEvents: StoredEvent[] = [];
  /** The pipeline id of notification id n is at n - 1. */
  protected readonly logPipelineIds: number[] = [];
  /** The ids of each pipeline's notifications, ascending. */
  protected readonly idsByPipeline = new Map<number, number[]>();

  protected override writeEvents(transaction: MemoryTransaction, write: EventsWrite): void {
    super.writeEvents(transaction, write);
    transaction.ids = this.log(write.events, write.pipelineId);
  }

  protected override notificationIds(transaction: MemoryTransaction): number[] {
    return transaction.ids;
  }

  /** Gives the (stored) events the next notification ids; returns them. */
  protected log(events: readonly StoredEvent[], pipelineId: number): number[] {
    let pipelineIds = this.idsByPipeline.get(pipelineId);
    if (pipelineIds === undefined) {
      pipelineIds = [];
      this.idsByPipeline.set(pipelineId, pipelineIds);
    }
    const count = events.length;
    const ids = new Array<number>(count);
    for (let index = 0; index < count; index++) {
      const id = this.logEvents.push(events[index]);
      this.logPipelineIds.push(pipelineId);
      pipelineIds.push(id);
      ids[index] = id;
    }
    return ids;
  }

  async selectNotifications(
    start: number,
    limit: number,
    options: SelectNotificationsOptions = {},
  ): Promise<Notification[]> {
    checkSelectNotifications(start, limit, options);
    const first = options.inclusiveOfStart === false ? start + 1 : start;
    const stop = Math.min(options.stop ?? Infinity, this.logEvents.length);
    const topics = options.topics && options.topics.length > 0 ? new Set(options.topics) : undefined;
    const selected: Notification[] = [];
    if (options.pipelineId === undefined) {
      for (let id = Math.max(first, 1); id <= stop && selected.length < limit; id++) {
        const event = this.logEvents[id - 1];
        if (topics === undefined || topics.has(event.topic)) selected.push(this.notification(id));
      }
      return selected;
    }
    const ids = this.idsByPipeline.get(options.pipelineId) ?? [];
    for (let index = lowerBound(ids, first, itself); index < ids.length && selected.length < limit; index++) {
      const id = ids[index];
      if (id > stop) break;
      if (topics === undefined || topics.has(this.logEvents[id - 1].topic)) selected.push(this.notification(id));
    }
    return selected;
  }

  async maxNotificationId(pipelineId?: number): Promise<number> {
    if (pipelineId === undefined) return this.logEvents.length;
    const ids = this.idsByPipeline.get(checkPipelineId(pipelineId));
    return ids === undefined || ids.length === 0 ? 0 : ids[ids.length - 1];
  }

  private notification(id: number): Notification {
    const event = this.logEvents[id - 1];
    return {
      id,
      originatorId: event.originatorId,
      originatorVersion: event.originatorVersion,
      topic: event.topic,
      state: event.state,
      pipelineId: this.logPipelineIds[id - 1],
    };
  }
}

/** Adds tracking: the last processed notification id per upstream application and pipeline. */
export class MemoryProcessRecorder extends MemoryApplicationRecorder implements ProcessRecorder, ViewRecorder {
  protected override readonly rung: Rung = PROCESS_RUNG;
  readonly viewDialect = 'memory';
  protected readonly positions = new Map<string, number>();
  /** The states of the views kept here (by key), as committed. */
  private readonly viewStates = new Map<string, unknown>();

  /**
   * `work`, all or nothing: what it sets and the tracking records it moves are kept only if it
   * returns (synchronously).
   */
  async writeView<T>(work: (transaction: ViewTransaction) => T | Promise<T>): Promise<T> {
    const undo: Array<() => void> = [];
    const staged = new Map<string, { state: unknown } | undefined>();
    let replaced: readonly TrackingPosition[] | undefined;
    let open = true;
    const check = () => {
      if (!open) throw viewTransactionEnded();
    };
    try {
      const result = work({
        dialect: 'memory',
        track: (record) => {
          check();
          checkTracking(record);
          const transaction: MemoryTransaction = { ids: [] };
          this.writeTracking(transaction, record);
          if (transaction.undoTracking) undo.push(transaction.undoTracking);
        },
        get: <S>(key: string) => (staged.has(key) ? (staged.get(key)?.state as S | undefined) : (this.viewStates.get(key) as S | undefined)),
        set: (key, state) => {
          check();
          staged.set(key, { state });
        },
        delete: (key) => {
          check();
          staged.set(key, undefined);
        },
        positions: () => this.positionsNow(),
        replacePositions: (positions) => void (replaced = positions),
      });
      if (result instanceof Promise) {
        result.catch(() => undefined);
        throw new DataError("a memory view's writes run synchronously: the work returned a promise, so nothing of it was kept");
      }
      for (const [key, entry] of staged) {
        if (entry === undefined) this.viewStates.delete(key);
        else this.viewStates.set(key, entry.state);
      }
      if (replaced !== undefined) {
        this.positions.clear();
        for (const position of replaced) this.positions.set(trackingKey(position.applicationName, position.pipelineId), position.notificationId);
      }
      return result;
    } catch (error) {
      for (const step of undo.reverse()) step();
      throw error;
    } finally {
      open = false;
    }
  }

  async queryView<R>(): Promise<R[]> {
    throw new DataError('a memory view has no SQL to query: read its state through the view');
  }

  qualify(name: string): string {
    return name;
  }

  async trackingPositions(): Promise<TrackingPosition[]> {
    return this.positionsNow();
  }

  private positionsNow(): TrackingPosition[] {
    return [...this.positions].map(([key, notificationId]) => {
      const colon = key.indexOf(':');
      return { pipelineId: Number(key.slice(0, colon)), applicationName: key.slice(colon + 1), notificationId };
    });
  }

  protected override writeTracking(transaction: MemoryTransaction, tracking: Tracking): void {
    const key = trackingKey(tracking.applicationName, tracking.pipelineId ?? 0);
    const recorded = this.positions.get(key);
    if ((recorded ?? 0) !== tracking.previousNotificationId) throw trackingConflict(tracking, recorded ?? 0);
    this.positions.set(key, tracking.notificationId);
    transaction.undoTracking = () => (recorded === undefined ? this.positions.delete(key) : this.positions.set(key, recorded));
  }

  async maxTrackingId(applicationName: string, pipelineId = 0): Promise<number> {
    return this.positions.get(trackingKey(applicationName, checkTrackingPosition(applicationName, pipelineId))) ?? 0;
  }
}

function trackingKey(applicationName: string, pipelineId: number): string {
  return `${pipelineId}:${applicationName}`;
}
