import { setTimeout as delay } from 'node:timers/promises';
import type { Application, ApplicationOptions } from '../application';
import { ConfigurationError, DataError, type DomainEvent } from '../domain';
import { isViewRecorder, OperationalError, type Notification, type Tracking, type ViewRecorder } from '../persistence';
import { Follower, isConflict, PolicyError, type FollowerKind, type PullOptions, type UpstreamReader } from '../system';
import type { BatchOutcome } from '../system/follower/batch-outcome';
import { ProjectionError } from './errors';
import { MemoryViewStore } from './memory-view-store';
import { rebuild, type RebuildOptions, type RebuildReport } from './rebuild';
import { SqlViewStore } from './sql-view-store';
import { checkViewClass, isSqlViewClass, type View, type ViewClass } from './view';
import type { ViewStore } from './view-store';

/**
 * A follower whose processing writes a materialised view instead of events: each batch of upstream
 * notifications is decoded and handed to the view's `update` in one transaction of the projection's
 * own store, with the tracking record, so the view is a function of the logs it follows, exactly
 * once, through crashes and restarts. It runs wherever followers run (every runner, worker process
 * and cluster slot), and shows in status with `kind: 'projection'`.
 *
 * A subclass names its view class (`static view = MyView`); `projection.view` is an instance for
 * queries. `waitFor` waits until the view shows a notification (read-your-writes after a command);
 * `rebuild` builds a new generation beside the live one and switches readers to it atomically;
 * `reset` clears the view and its tracking.
 */
export class Projection<V extends View = View> extends Follower {
  static override readonly kind: FollowerKind = 'projection';
  /** The view class: a SqlView (SQLite, PostgreSQL) or a MemoryView (memory). */
  static view: ViewClass | undefined = undefined;

  /** The view, for its query methods. */
  readonly view: V;
  readonly #store: ViewStore;
  readonly #recorder: ViewRecorder;

  constructor(options?: ApplicationOptions) {
    super(options);
    try {
      const viewClass = checkViewClass(this.name, (this.constructor as typeof Projection).view);
      const recorder = (this as Application).recorder;
      if (!isViewRecorder(recorder)) throw new ConfigurationError(`projection ${this.name}: its store cannot keep a view (its process recorder has no writeView)`);
      this.#recorder = recorder;
      this.#store = isSqlViewClass(viewClass) ? new SqlViewStore(recorder, this.name, viewClass) : new MemoryViewStore(recorder, this.name, viewClass);
      this.view = this.#store.view as V;
    } catch (error) {
      void this.close().catch(() => undefined);
      throw error;
    }
  }

  /** Makes the view's tables (and its first generation) if missing: readers may query them from then on. */
  ready(): Promise<void> {
    return this.#store.ready();
  }

  /** The live generation's number and the version of the view class that built it. */
  liveGeneration(): Promise<{ readonly generation: number; readonly version: number }> {
    return this.#store.live();
  }

  /**
   * Resolves once the view shows notification `notificationId` of `upstreamName` (which may be left
   * out when the projection follows one application): read-your-writes after a command, wherever the
   * projection runs. Rejects with a ProjectionError after `timeoutMs` (default 10 s).
   */
  async waitFor(notificationId: number, options: { upstreamName?: string; timeoutMs?: number } = {}): Promise<void> {
    if (!Number.isSafeInteger(notificationId) || notificationId < 1) throw new DataError(`notificationId must be an integer >= 1, got ${String(notificationId)}`);
    const upstreamName = options.upstreamName ?? this.onlyUpstream('waitFor');
    const timeoutMs = options.timeoutMs ?? 10_000;
    const [notification] = await this.upstreamRecorder(upstreamName).selectNotifications(notificationId, 1, { waitFor: notificationId });
    if (notification?.id !== notificationId) throw new DataError(`notification ${notificationId} of ${upstreamName} is not recorded`);
    const deadline = Date.now() + timeoutMs;
    for (let wait = 2; (await this.trackingPosition(upstreamName, notification.pipelineId)) < notificationId; wait = Math.min(wait * 2, 50)) {
      if (Date.now() > deadline) {
        throw new ProjectionError(`${this.name} has not reached notification ${notificationId} of ${upstreamName} (pipeline ${notification.pipelineId}) after ${timeoutMs} ms`);
      }
      await delay(wait);
    }
  }

  /**
   * Builds a new generation of the view from the start of the logs, beside the live one (which
   * goes on being read and written), catches up with it, then switches readers and processing to
   * it atomically and drops the old one. Reports progress to `onProgress`. Notifications the live
   * projection skipped are skipped again. An interrupted rebuild is resumed by the next one.
   */
  async rebuild(options: RebuildOptions = {}): Promise<RebuildReport> {
    if (this.upstreamNames.length === 0) throw new ProjectionError(`${this.name} follows nothing yet: rebuild it from a runner, or after follow()`);
    const report = await rebuild(
      {
        name: this.name,
        store: this.#store,
        pipelineId: this.pipelineId,
        upstreams: this.upstreamNames.map((name) => this.upstream(name)),
        trackingPositions: () => this.#recorder.trackingPositions(),
        ownLog: this.recorder,
        mapper: this.mapper,
      },
      options,
    );
    this.recheckPosition(); // the switch moved the positions on
    return report;
  }

  /** Clears the view and its tracking (for development): processing starts again from the beginning. */
  async reset(): Promise<number> {
    const generation = await this.#store.reset();
    this.recheckPosition();
    return generation;
  }

  /**
   * As a follower's, and when there was nothing new, the position is read as recorded next time:
   * a reset (from another process, say) moves it back, where no conflict would ever tell.
   */
  override async pullAndProcess(upstreamName: string, options: PullOptions = {}): Promise<number> {
    const processed = await super.pullAndProcess(upstreamName, options);
    if (processed === 0) this.recheckPosition(upstreamName, options.pipelineId);
    return processed;
  }

  override async policy(): Promise<void> {
    throw new ProjectionError(`${this.name} is a projection: its view's update processes notifications, not a policy`);
  }

  protected override async processBatchOf(reader: UpstreamReader, previous: number, notifications: readonly Notification[]): Promise<BatchOutcome> {
    const started = performance.now();
    const { upstream, pipelineId } = reader;
    const events: DomainEvent[] = [];
    let failure: PolicyError | undefined;
    for (const notification of notifications) {
      try {
        events.push(upstream.mapper.toDomainEvent(notification));
      } catch (error) {
        failure = new PolicyError(this.name, upstream.name, notification.id, pipelineId, error);
        break;
      }
    }
    const projected = await this.project(reader, previous, notifications.slice(0, events.length), events);
    const outcome: BatchOutcome = { processed: projected.processed, recordings: [], failure: projected.failure ?? failure };
    this.batchObserver.batchEnded(reader, notifications, outcome, performance.now() - started, undefined);
    return outcome;
  }

  /**
   * Applies the events as one transaction; when the view fails on the batch, applies them one at a
   * time to find the notification it fails on (what comes before it is kept, as with a policy).
   */
  private async project(
    reader: UpstreamReader,
    previous: number,
    notifications: readonly Notification[],
    events: readonly DomainEvent[],
  ): Promise<{ processed: number; failure?: PolicyError }> {
    if (events.length === 0) return { processed: 0 };
    const fails = (index: number, error: unknown) => new PolicyError(this.name, reader.upstream.name, notifications[index].id, reader.pipelineId, error);
    try {
      await this.#store.applyLive(this.tracking(reader, previous, notifications[notifications.length - 1]), events);
      reader.advance(notifications[notifications.length - 1].id);
      return { processed: events.length };
    } catch (error) {
      if (!isViewFault(error)) throw error;
      if (events.length === 1) return { processed: 0, failure: fails(0, error) };
    }
    let position = previous;
    for (let index = 0; index < events.length; index++) {
      try {
        await this.#store.applyLive(this.tracking(reader, position, notifications[index]), [events[index]]);
      } catch (error) {
        if (!isViewFault(error)) throw error;
        return { processed: index, failure: fails(index, error) };
      }
      position = notifications[index].id;
      reader.advance(position);
    }
    return { processed: events.length };
  }

  private tracking(reader: UpstreamReader, previous: number, last: Notification): Tracking {
    return { applicationName: reader.upstream.name, pipelineId: reader.pipelineId, notificationId: last.id, previousNotificationId: previous };
  }

  private onlyUpstream(what: string): string {
    const names = this.upstreamNames;
    if (names.length === 1) return names[0];
    throw new DataError(
      names.length === 0 ? `${this.name} follows nothing yet (${what})` : `${this.name} follows ${names.join(', ')}: name the upstream (${what})`,
    );
  }
}

/** Whether an error is the view's own (its update, or a statement of it, failed) rather than the store's or a race's. */
function isViewFault(error: unknown): boolean {
  return !(isConflict(error) || error instanceof OperationalError || error instanceof ConfigurationError);
}
