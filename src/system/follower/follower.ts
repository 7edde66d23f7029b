import { Application } from '../../application';
import { DataError, type DomainEvent } from '../../domain';
import type { ApplicationRecorder, InfrastructureFactory, Mapper, Notification, ProcessRecorder } from '../../persistence';
import { SkipError } from '../errors';
import { ProcessEvent } from '../process-event';
import { SkippedNotification } from '../skipped-notification';
import { BatchContext, processBatch } from './batch';
import type { BatchOutcome } from './batch-outcome';
import { retryingConflicts } from './conflicts';
import { DEFAULT_SLOW_BATCH_MS, FollowerObserver } from './observer';
import { Upstream, UpstreamReader } from './upstream-reader';

export interface PullOptions {
  /** Which pipeline's notifications to process (default 0). */
  pipelineId?: number;
  /** Notifications read and processed per transaction (default: the class's `batchSize`). */
  batchSize?: number;
  /** Once aborted, the run stops after the batch in flight (what it processed is recorded). */
  signal?: AbortSignal;
  /**
   * A notification of the upstream known to be recorded (a prompt named it): the run does not end
   * before it has seen it, however long its store keeps a committed write out of the log (see
   * SelectNotificationsOptions.waitFor).
   */
  waitFor?: number;
}

/**
 * An application that follows the notification logs of others: it pulls their notifications in
 * order from its tracking position, turns each back into a domain event and calls `policy`. The
 * events a policy saves are recorded with a tracking record of the notification, atomically, so
 * each notification is processed exactly once, through crashes, restarts and racing runs.
 *
 * The work is done in three steps: a reader per upstream and pipeline, which owns the position
 * (UpstreamReader); the processing of one batch, up to `batchSize` notifications in one
 * transaction, in which each policy call sees what the earlier ones saved (processBatch); and one
 * conflict policy for every entry point (retryingConflicts).
 */
export class Follower extends Application {
  static batchSize = 100;
  /** What the follower's processing writes: events of its own ('process'), or a view ('projection'). */
  static readonly kind: FollowerKind = 'process';

  get kind(): FollowerKind {
    return (this.constructor as typeof Follower).kind;
  }

  /** Notifications processed per transaction, at most (the class's `batchSize`). */
  get batchSize(): number {
    return (this.constructor as typeof Follower).batchSize;
  }

  declare readonly recorder: ProcessRecorder;
  readonly #upstreams = new Map<string, Upstream>();
  readonly #readers = new Map<string, UpstreamReader>();
  readonly #batch: BatchContext = {
    followerName: this.name,
    repository: this.repository,
    // With fast-forwarding off the cache is trusted anyway; with it on, a batch trusts it and checks.
    trustCache: this.repository.fastForward,
    policy: (domainEvent, processEvent) => this.policy(domainEvent, processEvent),
    record: async (aggregates, events, options) => {
      const recordings = await this.record(aggregates, events, options);
      // Followers of this application are prompted, but not waited for: they may be waiting for us.
      this.notifyRecorded(recordings, options.pipelineId ?? 0).catch(() => undefined);
      return recordings;
    },
    // (The recorder is the one Application's constructor made: `declare` above only narrows its type.)
    observer: new FollowerObserver(this.name, (this as Application).recorder, this.logger, this.env.integer('SLOW_BATCH_MS', 0) ?? DEFAULT_SLOW_BATCH_MS),
  };

  protected override createRecorder(factory: InfrastructureFactory): ProcessRecorder {
    return factory.processRecorder();
  }

  /** Follows the notification log of `upstreamName`, read through `recorder`, decoded by `mapper`. */
  follow(upstreamName: string, recorder: ApplicationRecorder, mapper: Mapper): void {
    this.#upstreams.set(upstreamName, { name: upstreamName, recorder, mapper });
    for (const [key, reader] of this.#readers) if (reader.upstream.name === upstreamName) this.#readers.delete(key);
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
   * The tracking positions as recorded in one pipeline, by upstream (an upstream whose position
   * cannot be read now is left out): where a process that ended left them.
   */
  async recordedPositions(pipelineId = 0): Promise<Record<string, number>> {
    const positions: Record<string, number> = {};
    await Promise.all(
      this.upstreamNames.map(async (upstreamName) => {
        try {
          positions[upstreamName] = await this.trackingPosition(upstreamName, pipelineId);
        } catch {
          // unknown for now: a supervisor then assumes no progress
        }
      }),
    );
    return positions;
  }

  /** The positions this follower's readers know in one pipeline, by upstream (those not read yet are left out). */
  knownPositions(pipelineId = 0): Record<string, number> {
    const positions: Record<string, number> = {};
    for (const reader of this.#readers.values()) {
      if (reader.pipelineId === pipelineId && reader.knownPosition !== undefined) positions[reader.upstream.name] = reader.knownPosition;
    }
    return positions;
  }

  /**
   * Processes every notification of `upstreamName` (in one pipeline) that is new since the tracking
   * position (or until `signal` is aborted); resolves with how many were processed. Calls for one
   * upstream and pipeline run one after another. A policy that throws stops the run: what came
   * before it is recorded, nothing of the failing notification is, and the returned promise rejects
   * with a PolicyError.
   */
  pullAndProcess(upstreamName: string, options: PullOptions = {}): Promise<number> {
    const reader = this.reader(upstreamName, options.pipelineId);
    const batchSize = options.batchSize ?? this.batchSize;
    return reader.exclusive(async () => {
      let processed = 0;
      for (;;) {
        if (options.signal?.aborted) return processed;
        const outcome = await retryingConflicts(reader, () => this.pullBatch(reader, batchSize, options.waitFor), this.#batch.observer);
        processed += outcome.processed;
        if (outcome.failure !== undefined) throw failed(reader, outcome.failure);
        if (outcome.read < batchSize) return processed;
      }
    });
  }

  /** Reads up to `limit` notifications after the tracking position, without processing them. */
  pull(upstreamName: string, options: { pipelineId?: number; limit: number }): Promise<Notification[]> {
    const reader = this.reader(upstreamName, options.pipelineId);
    return reader.exclusive(async () => reader.read(await reader.position(), options.limit));
  }

  /**
   * Processes notifications read earlier by `pull` (stepping runners fetch first, then process).
   * Those that another run processed in the meantime are left alone: after a conflict, only those
   * that follow the position as recorded are processed.
   */
  processNotifications(upstreamName: string, notifications: readonly Notification[], options: PullOptions = {}): Promise<number> {
    const reader = this.reader(upstreamName, options.pipelineId);
    const batchSize = options.batchSize ?? this.batchSize;
    return reader.exclusive(async () => {
      let processed = 0;
      for (;;) {
        const outcome = await retryingConflicts(reader, async (retry) => {
          const position = await reader.position();
          const rest = following(notifications, position, retry > 0);
          return { rest: rest.length, ...(await this.processRead(reader, position, rest.slice(0, batchSize))) };
        }, this.#batch.observer);
        processed += outcome.processed;
        if (outcome.failure !== undefined) throw failed(reader, outcome.failure);
        if (outcome.rest <= batchSize) return processed;
      }
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
    const reader = this.reader(upstreamName, options.pipelineId);
    if (typeof reason !== 'string' || reason.trim() === '') throw new DataError('a skip needs a reason');
    const expected = options.notificationId;
    if (expected !== undefined && (!Number.isSafeInteger(expected) || expected < 1)) {
      throw new DataError(`notificationId must be an integer >= 1, got ${String(expected)}`);
    }
    const { upstream, pipelineId } = reader;
    return reader.exclusive(() => {
      reader.forget(); // another process may have moved it
      return retryingConflicts(reader, async () => {
        const previous = await reader.position();
        const [next] = await reader.read(previous, 1);
        if (expected !== undefined && next?.id !== expected) {
          throw new SkipError(
            `${this.name} cannot skip notification ${expected} of ${upstream.name} (pipeline ${pipelineId}): ` +
              (next === undefined ? 'there is no next notification' : `the next notification is ${next.id}`),
          );
        }
        if (next === undefined) return undefined;
        const skipped = SkippedNotification.record(this.name, upstream.name, pipelineId, next.id, reason);
        await this.#batch.record([skipped], skipped.collectEvents(), {
          pipelineId,
          tracking: { applicationName: upstream.name, notificationId: next.id, pipelineId, previousNotificationId: previous },
        });
        reader.advance(next.id);
        return next.id;
      }, this.#batch.observer);
    });
  }

  /** Reads the next batch from the reader's position and processes it; says how many it read. */
  private async pullBatch(reader: UpstreamReader, batchSize: number, waitFor: number | undefined): Promise<BatchOutcome & { read: number }> {
    const position = await reader.position();
    const notifications = await reader.read(position, batchSize, waitFor);
    if (notifications.length === 0) return { read: 0, processed: 0, recordings: [] };
    const outcome = await this.processBatchOf(reader, position, notifications);
    return { read: notifications.length, processed: outcome.processed, recordings: outcome.recordings, failure: outcome.failure };
  }

  /** Processes notifications read from `position` as one batch (none: nothing to do). */
  private processRead(reader: UpstreamReader, position: number, notifications: readonly Notification[]): Promise<BatchOutcome> | BatchOutcome {
    if (notifications.length === 0) return { processed: 0, recordings: [] };
    return this.processBatchOf(reader, position, notifications);
  }

  /**
   * Processes a batch of notifications that follow `previous` and records what it did with the
   * tracking record, atomically (see processBatch); a projection writes its view instead.
   */
  protected processBatchOf(reader: UpstreamReader, previous: number, notifications: readonly Notification[]): Promise<BatchOutcome> {
    return processBatch(this.#batch, reader, previous, notifications);
  }

  /**
   * Has the reader of one upstream and pipeline (or every reader) read the position as recorded
   * next time (another may have moved it, even back), still reporting the one it knows until then.
   */
  protected recheckPosition(upstreamName?: string, pipelineId = 0): void {
    if (upstreamName === undefined) for (const reader of this.#readers.values()) reader.recheck();
    else this.#readers.get(`${pipelineId}:${upstreamName}`)?.recheck();
  }

  /** Logs slow batches, counts what is processed, traces. */
  protected get batchObserver(): FollowerObserver {
    return this.#batch.observer!;
  }

  /** The reader of one upstream in one pipeline (made on first use). */
  private reader(upstreamName: string, pipelineId = 0): UpstreamReader {
    const key = `${pipelineId}:${upstreamName}`;
    let reader = this.#readers.get(key);
    if (reader === undefined) {
      reader = new UpstreamReader(this.upstream(upstreamName), pipelineId, this.recorder);
      this.#readers.set(key, reader);
    }
    return reader;
  }

  protected upstream(name: string): Upstream {
    const upstream = this.#upstreams.get(name);
    if (upstream === undefined) {
      throw new DataError(`${this.name} does not follow ${name} (it follows: ${this.upstreamNames.join(', ') || 'nothing'})`);
    }
    return upstream;
  }
}

/**
 * A policy failed: the next run reads the reader's position as recorded (while it is known still,
 * for the supervisors that judge progress by it). While this follower is stuck on a notification,
 * an operator may skip it from another process (the command line's `skip`); the next run then goes
 * on after it instead of failing on it again.
 */
function failed(reader: UpstreamReader, failure: Error): Error {
  reader.recheck();
  return failure;
}

/**
 * The notifications of a list read earlier that follow `position`. A position not among them is
 * the one the list was read from (all of them follow it), unless it was read again after a
 * conflict: then another run moved it past the list, and none follow it.
 */
function following(notifications: readonly Notification[], position: number, reread: boolean): readonly Notification[] {
  const index = notifications.findIndex((notification) => notification.id === position);
  if (index >= 0) return notifications.slice(index + 1);
  return reread ? [] : notifications;
}

/** What a follower's processing writes. */
export type FollowerKind = 'process' | 'projection';

/** Both a leader and a follower: the usual building block of a system. */
export class ProcessApplication extends Follower {}
