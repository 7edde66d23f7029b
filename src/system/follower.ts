import { Aggregate, AggregateEvent, DomainEvent } from '../domain';
import {
  ApplicationRecorder,
  DataError,
  InfrastructureFactory,
  Mapper,
  Notification,
  ProcessRecorder,
  RecordConflictError,
  TrackingConflictError,
} from '../persistence';
import { PolicyError, SkipError } from './errors';
import { Leader } from './leader';
import { ProcessEvent } from './process-event';
import { SkippedNotification } from './skipped-notification';

export interface PullOptions {
  /** Which pipeline's notifications to process (default 0). */
  pipelineId?: number;
  /** Notifications read and processed per transaction (default: the class's `batchSize`). */
  batchSize?: number;
  /** Once aborted, the run stops after the batch in flight (what it processed is recorded). */
  signal?: AbortSignal;
}

interface Upstream {
  readonly name: string;
  readonly recorder: ApplicationRecorder;
  readonly mapper: Mapper;
}

/** How many times a batch is retried when its write loses a race with another writer. */
const MAX_CONFLICT_RETRIES = 10;

/**
 * An application that follows the notification logs of others: it pulls their notifications in
 * order from its tracking position, turns each back into a domain event and calls `policy`. The
 * events a policy saves are recorded with a tracking record of the notification, atomically, so
 * each notification is processed exactly once, through crashes, restarts and racing runs.
 *
 * For speed, up to `batchSize` notifications are processed per transaction; within a batch, the
 * repository shows each policy call what the earlier calls saved, so a batch behaves exactly as
 * one notification at a time would.
 */
export class Follower extends Leader {
  static batchSize = 100;

  /** Notifications processed per transaction, at most (the class's `batchSize`). */
  get batchSize(): number {
    return (this.constructor as typeof Follower).batchSize;
  }

  declare readonly recorder: ProcessRecorder;
  readonly #upstreams = new Map<string, Upstream>();
  readonly #positions = new Map<string, number>();
  readonly #running = new Map<string, Promise<unknown>>();

  protected override createRecorder(factory: InfrastructureFactory): ProcessRecorder {
    return factory.processRecorder();
  }

  /** Follows the notification log of `upstreamName`, read through `recorder`, decoded by `mapper`. */
  follow(upstreamName: string, recorder: ApplicationRecorder, mapper: Mapper): void {
    this.#upstreams.set(upstreamName, { name: upstreamName, recorder, mapper });
  }

  get upstreamNames(): string[] {
    return [...this.#upstreams.keys()];
  }

  /** The log of an application this one follows (for runners checking progress). */
  upstreamRecorder(upstreamName: string): ApplicationRecorder {
    return this.upstream(upstreamName).recorder;
  }

  /**
   * Decides what follows from an upstream domain event: change aggregates (found through
   * `this.repository`) and pass them to `processEvent.save`. The default ignores every event.
   */
  async policy(_domainEvent: DomainEvent, _processEvent: ProcessEvent): Promise<void> {}

  /** The last notification of `upstreamName` processed in `pipelineId`, as recorded. */
  async trackingPosition(upstreamName: string, pipelineId = 0): Promise<number> {
    return this.recorder.maxTrackingId(upstreamName, pipelineId);
  }

  /**
   * Processes every notification of `upstreamName` (in one pipeline) that is new since the tracking
   * position (or until `signal` is aborted); resolves with how many were processed. Calls for one
   * upstream and pipeline run one after another. A policy that throws stops the run: what came
   * before it is recorded, nothing of the failing notification is, and the returned promise rejects
   * with a PolicyError.
   */
  async pullAndProcess(upstreamName: string, options: PullOptions = {}): Promise<number> {
    const upstream = this.upstream(upstreamName);
    const pipelineId = options.pipelineId ?? 0;
    const batchSize = options.batchSize ?? this.batchSize;
    return this.exclusive(upstream.name, pipelineId, (key) => this.pullAll(upstream, pipelineId, batchSize, key, options.signal));
  }

  /** Reads up to `limit` notifications after the tracking position, without processing them. */
  async pull(upstreamName: string, options: { pipelineId?: number; limit: number }): Promise<Notification[]> {
    const upstream = this.upstream(upstreamName);
    const pipelineId = options.pipelineId ?? 0;
    return this.exclusive(upstream.name, pipelineId, async (key) => {
      const position = await this.position(upstream, pipelineId, key);
      return upstream.recorder.selectNotifications(position, options.limit, { inclusiveOfStart: false, pipelineId });
    });
  }

  /**
   * Processes notifications read earlier by `pull` (stepping runners fetch first, then process).
   * Those that another run processed in the meantime are left alone.
   */
  async processNotifications(upstreamName: string, notifications: readonly Notification[], options: PullOptions = {}): Promise<number> {
    const upstream = this.upstream(upstreamName);
    const pipelineId = options.pipelineId ?? 0;
    const batchSize = options.batchSize ?? this.batchSize;
    return this.exclusive(upstream.name, pipelineId, async (key) => {
      let processed = 0;
      for (let start = 0; start < notifications.length; start += batchSize) {
        const position = await this.position(upstream, pipelineId, key);
        try {
          // If the notifications no longer follow the recorded position, the tracking record's
          // compare-and-set refuses the write and nothing is processed twice.
          processed += await this.processBatch(upstream, pipelineId, position, notifications.slice(start, start + batchSize), key);
        } catch (error) {
          if (!(error instanceof TrackingConflictError)) throw error;
          this.#positions.delete(key);
          return processed;
        }
      }
      return processed;
    });
  }

  /**
   * Moves past the next notification of `upstreamName` (in one pipeline) without processing it,
   * recording a SkippedNotification with the reason in the same write as the tracking record.
   * Resolves with the id of the notification skipped, or undefined when there was none. With
   * `notificationId`, skips only that notification: when another is next (someone processed it
   * meanwhile), nothing is written and it rejects with a SkipError naming both.
   */
  async skipNext(
    upstreamName: string,
    reason: string,
    options: { pipelineId?: number; notificationId?: number } = {},
  ): Promise<number | undefined> {
    const upstream = this.upstream(upstreamName);
    const pipelineId = options.pipelineId ?? 0;
    if (typeof reason !== 'string' || reason.trim() === '') throw new DataError('a skip needs a reason');
    const expected = options.notificationId;
    if (expected !== undefined && (!Number.isSafeInteger(expected) || expected < 1)) {
      throw new DataError(`notificationId must be an integer >= 1, got ${String(expected)}`);
    }
    return this.exclusive(upstream.name, pipelineId, async (key) => {
      // Read the position afresh: another process may have moved it.
      this.#positions.delete(key);
      const previous = await this.position(upstream, pipelineId, key);
      const [next] = await upstream.recorder.selectNotifications(previous, 1, { inclusiveOfStart: false, pipelineId });
      if (expected !== undefined && next?.id !== expected) {
        throw new SkipError(
          `${this.name} cannot skip notification ${expected} of ${upstream.name} (pipeline ${pipelineId}): ` +
            (next === undefined ? 'there is no next notification' : `the next notification is ${next.id}`),
        );
      }
      if (next === undefined) return undefined;
      const skipped = SkippedNotification.record(this.name, upstream.name, pipelineId, next.id, reason);
      const events = skipped.collectEvents();
      try {
        const recordings = await this.record([skipped], events, {
          pipelineId,
          tracking: { applicationName: upstream.name, notificationId: next.id, pipelineId, previousNotificationId: previous },
        });
        this.notifyRecorded(recordings, pipelineId).catch(() => undefined);
      } finally {
        this.#positions.delete(key);
      }
      return next.id;
    });
  }

  /** Runs `body` after every earlier call for the same upstream and pipeline has finished. */
  private exclusive<T>(upstreamName: string, pipelineId: number, body: (key: string) => Promise<T>): Promise<T> {
    const key = `${pipelineId}:${upstreamName}`;
    const previous = this.#running.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => body(key));
    this.#running.set(key, run);
    run.then(
      () => this.forgetRun(key, run),
      () => this.forgetRun(key, run),
    );
    return run;
  }

  private forgetRun(key: string, run: Promise<unknown>): void {
    if (this.#running.get(key) === run) this.#running.delete(key);
  }

  private async position(upstream: Upstream, pipelineId: number, key: string): Promise<number> {
    let position = this.#positions.get(key);
    if (position === undefined) {
      position = await this.recorder.maxTrackingId(upstream.name, pipelineId);
      this.#positions.set(key, position);
    }
    return position;
  }

  private upstream(name: string): Upstream {
    const upstream = this.#upstreams.get(name);
    if (upstream === undefined) {
      throw new DataError(`${this.name} does not follow ${name} (it follows: ${this.upstreamNames.join(', ') || 'nothing'})`);
    }
    return upstream;
  }

  private async pullAll(upstream: Upstream, pipelineId: number, batchSize: number, key: string, signal?: AbortSignal): Promise<number> {
    let processed = 0;
    let conflicts = 0;
    for (;;) {
      if (signal?.aborted) return processed;
      const position = await this.position(upstream, pipelineId, key);
      const notifications = await upstream.recorder.selectNotifications(position, batchSize, {
        inclusiveOfStart: false,
        pipelineId,
      });
      if (notifications.length === 0) return processed;
      try {
        processed += await this.processBatch(upstream, pipelineId, position, notifications, key);
        conflicts = 0;
      } catch (error) {
        if (!(error instanceof TrackingConflictError || error instanceof RecordConflictError)) throw error;
        // Another run recorded first: forget the cached position and carry on from the recorded one.
        this.#positions.delete(key);
        if (++conflicts > MAX_CONFLICT_RETRIES) throw error;
        continue;
      }
      if (notifications.length < batchSize) return processed;
    }
  }

  /** Calls the policy for each notification of the batch, in order, until one throws. */
  private async applyPolicies(batch: Batch): Promise<void> {
    const { upstream, pipelineId } = batch;
    for (const notification of batch.notifications) {
      const processEvent = new ProcessEvent({
        applicationName: upstream.name,
        notificationId: notification.id,
        pipelineId,
        previousNotificationId: batch.previous,
      });
      try {
        await this.policy(upstream.mapper.toDomainEvent(notification), processEvent);
      } catch (error) {
        batch.failure = new PolicyError(this.name, upstream.name, notification.id, pipelineId, error);
        return;
      }
      for (const aggregate of processEvent.aggregates) batch.pending.set(aggregate.id, aggregate);
      batch.events.push(...processEvent.events);
      batch.last = notification;
    }
  }

  private async processBatch(
    upstream: Upstream,
    pipelineId: number,
    previous: number,
    notifications: readonly Notification[],
    key: string,
  ): Promise<number> {
    const batch: Batch = { upstream, pipelineId, previous, notifications, pending: new Map(), events: [] };
    // The policy calls of a batch see what the batch's earlier calls saved; nothing else does.
    if (notifications.length === 1) await this.applyPolicies(batch);
    else await this.repository.withPending(batch.pending, () => this.applyPolicies(batch));
    const { pending, events, last, failure } = batch;
    if (last !== undefined) {
      const recordings = await this.record([...pending.values()], events, {
        pipelineId,
        tracking: { applicationName: upstream.name, notificationId: last.id, pipelineId, previousNotificationId: previous },
      });
      this.#positions.set(key, last.id);
      // Followers of this application are prompted, but not waited for: they may be waiting for us.
      this.notifyRecorded(recordings, pipelineId).catch(() => undefined);
    }
    if (failure !== undefined) throw failure;
    return notifications.length;
  }
}

/** The work of one processBatch: its notifications, and what their policy calls made of them. */
interface Batch {
  readonly upstream: Upstream;
  readonly pipelineId: number;
  readonly previous: number;
  readonly notifications: readonly Notification[];
  /** The aggregates the policy calls saved, as they are after the latest call. */
  readonly pending: Map<string, Aggregate>;
  readonly events: AggregateEvent<any>[];
  /** The last notification whose policy call succeeded. */
  last?: Notification;
  failure?: PolicyError;
}

/** Both a leader and a follower: the usual building block of a system. */
export class ProcessApplication extends Follower {}
