import type { DomainEvent } from '../domain';
import type { ApplicationRecorder, Mapper, Notification, TrackingPosition } from '../persistence';
import { SkippedNotification, type Upstream } from '../system';
import { ProjectionError } from './errors';
import { positionKey, type BuildPositions, type ViewStore } from './view-store';

export interface RebuildProgress {
  readonly phase: 'building' | 'switching' | 'done';
  readonly generation: number;
  /** Notifications applied to the new generation by this rebuild so far. */
  readonly applied: number;
  /** How far it has got through the logs, from 0 to 1 (by notification ids, against the heads when it began). */
  readonly fraction: number;
}

export interface RebuildOptions {
  /** The pipelines to rebuild from besides those the tracking records name (default: the projection's own). */
  readonly pipelineIds?: readonly number[];
  /** Notifications read and applied per transaction (default 1000). */
  readonly batchSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Once aborted, the rebuild stops after the batch in flight; the next rebuild resumes it. */
  readonly signal?: AbortSignal;
}

export interface RebuildReport {
  readonly generation: number;
  /** The generation it replaced (undefined when there was none). */
  readonly retired?: number;
  readonly applied: number;
  /** Whether it carried on an interrupted rebuild. */
  readonly resumed: boolean;
  /** How many times it caught up before the live generation let it switch. */
  readonly attempts: number;
  readonly aborted?: boolean;
}

/** What a rebuild needs of its projection. */
export interface RebuildSubject {
  readonly name: string;
  readonly store: ViewStore;
  readonly pipelineId: number;
  readonly upstreams: readonly Upstream[];
  trackingPositions(): Promise<TrackingPosition[]>;
  /** The projection's own log, where its skips are recorded. */
  readonly ownLog: ApplicationRecorder;
  readonly mapper: Mapper;
}

const MAX_ATTEMPTS = 100;

/** See Projection.rebuild. */
export async function rebuild(subject: RebuildSubject, options: RebuildOptions): Promise<RebuildReport> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ProjectionError(`batchSize must be an integer >= 1, got ${String(options.batchSize)}`);
  const tracked = await subject.trackingPositions();
  const pipelineIds = [...new Set([...(options.pipelineIds ?? [subject.pipelineId]), ...tracked.map((row) => row.pipelineId)])].sort((a, b) => a - b);
  const skipped = await skippedNotifications(subject);
  const { store, upstreams } = subject;
  const build = await store.startBuild();
  const { generation } = build;
  let positions: BuildPositions = build.positions;
  let applied = 0;
  const heads = await headsOf(subject, pipelineIds);
  const report = (phase: RebuildProgress['phase']) => options.onProgress?.({ phase, generation, applied, fraction: fractionDone(heads, positions) });
  report('building');
  for (let attempt = 1; ; attempt++) {
    for (const upstream of upstreams) {
      for (const pipelineId of pipelineIds) {
        const key = positionKey(upstream.name, pipelineId);
        for (;;) {
          if (options.signal?.aborted) return { generation, applied, resumed: build.resumed, attempts: attempt, aborted: true };
          const notifications = await upstream.recorder.selectNotifications(positions[key] ?? 0, batchSize, { inclusiveOfStart: false, pipelineId });
          if (notifications.length === 0) break;
          const events = decode(subject, upstream, pipelineId, notifications, skipped);
          const after = { ...positions, [key]: notifications[notifications.length - 1].id };
          try {
            await store.applyBuild(generation, positions, after, events);
          } catch (error) {
            if (error instanceof ProjectionError) throw error;
            throw new ProjectionError(
              `rebuilding ${subject.name} failed on notifications ${notifications[0].id}-${after[key]} of ${upstream.name} (pipeline ${pipelineId}): ` +
                `${(error as Error).message}; generation ${generation} is kept to resume from ${positions[key] ?? 0}`,
              { cause: error },
            );
          }
          positions = after;
          applied += notifications.length;
          report('building');
          if (notifications.length < batchSize) break;
        }
      }
    }
    report('switching');
    const outcome = await store.trySwitch(generation);
    if (outcome.switched) {
      await store.dropRetired();
      report('done');
      return { generation, retired: outcome.retired, applied, resumed: build.resumed, attempts: attempt };
    }
    if (attempt >= MAX_ATTEMPTS) {
      throw new ProjectionError(`rebuilding ${subject.name}: after ${attempt} catch-ups the live generation is still ahead (${outcome.behind.join('; ')})`);
    }
  }
}

/** The events of the notifications, less those the projection skipped; one that cannot be decoded fails the rebuild, naming it. */
function decode(subject: RebuildSubject, upstream: Upstream, pipelineId: number, notifications: readonly Notification[], skipped: ReadonlySet<string>): DomainEvent[] {
  const events: DomainEvent[] = [];
  const skippedHere = skipped.size === 0 ? undefined : `${positionKey(upstream.name, pipelineId)}:`;
  for (const notification of notifications) {
    if (skippedHere !== undefined && skipped.has(skippedHere + notification.id)) continue;
    try {
      events.push(upstream.mapper.toDomainEvent(notification));
    } catch (error) {
      throw new ProjectionError(
        `rebuilding ${subject.name}: notification ${notification.id} of ${upstream.name} (pipeline ${pipelineId}) cannot be decoded: ${(error as Error).message} ` +
          `(skip it in the live projection, and the rebuild skips it too)`,
        { cause: error },
      );
    }
  }
  return events;
}

/** The notifications the projection skipped, as `<pipeline>:<upstream>:<id>`, from its own log. */
async function skippedNotifications(subject: RebuildSubject): Promise<Set<string>> {
  const skipped = new Set<string>();
  for (let start = 0; ; ) {
    const notifications = await subject.ownLog.selectNotifications(start, 1000, { inclusiveOfStart: false });
    for (const notification of notifications) {
      const event = subject.mapper.toDomainEvent(notification);
      if (event instanceof SkippedNotification.Recorded) skipped.add(`${positionKey(event.upstreamName, event.pipelineId)}:${event.notificationId}`);
    }
    if (notifications.length < 1000) return skipped;
    start = notifications[notifications.length - 1].id;
  }
}

/** The last notification id of each log to rebuild from, as the rebuild begins. */
async function headsOf(subject: RebuildSubject, pipelineIds: readonly number[]): Promise<Map<string, number>> {
  const heads = new Map<string, number>();
  for (const upstream of subject.upstreams) {
    for (const pipelineId of pipelineIds) heads.set(positionKey(upstream.name, pipelineId), await upstream.recorder.maxNotificationId(pipelineId));
  }
  return heads;
}

function fractionDone(heads: ReadonlyMap<string, number>, positions: BuildPositions): number {
  let head = 0;
  let done = 0;
  for (const [key, id] of heads) {
    head += id;
    done += Math.min(positions[key] ?? 0, id);
  }
  return head === 0 ? 1 : done / head;
}
