import { UnitOfWork, type Recording, type Repository } from '../../application';
import type { Aggregate, AggregateEvent, DomainEvent } from '../../domain';
import type { InsertEventsOptions, Notification } from '../../persistence';
import { PolicyError } from '../errors';
import { ProcessEvent } from '../process-event';
import type { BatchOutcome } from './batch-outcome';
import type { FollowerObserver, TracedBatch } from './observer';
import type { UpstreamReader } from './upstream-reader';

/** What a batch needs of its follower (its protected parts, handed over by the follower itself). */
export interface BatchContext {
  readonly followerName: string;
  readonly repository: Repository;
  /** Whether policies may take cached aggregates without a fast-forward read (checked before recording). */
  readonly trustCache: boolean;
  policy(domainEvent: DomainEvent, processEvent: ProcessEvent): Promise<void>;
  record(aggregates: readonly Aggregate[], events: readonly AggregateEvent<any>[], options: InsertEventsOptions): Promise<Recording[]>;
  /** Logs slow batches, counts what is processed, traces. */
  readonly observer?: FollowerObserver;
}

/**
 * Processes one batch of notifications that follow the reader's position `previous`: calls the
 * policy for each, in order, within one unit of work (each call sees what the earlier ones saved;
 * nothing outside sees it until it is recorded), until one fails; then checks the cached
 * aggregates the calls only read, and records what the calls saved with the tracking record of the
 * last one that succeeded, in one atomic write, and moves the reader on.
 */
export async function processBatch(
  context: BatchContext,
  reader: UpstreamReader,
  previous: number,
  notifications: readonly Notification[],
): Promise<BatchOutcome> {
  const started = performance.now();
  const traced = context.observer?.traceBatch(reader, notifications);
  let outcome: BatchOutcome;
  try {
    const unit = new UnitOfWork(context.trustCache);
    const events: AggregateEvent<any>[] = [];
    // A unit of work needs an AsyncLocalStorage, which costs every promise of the process a hook while
    // it runs: a batch of one notification goes without (it has no earlier calls to show) unless
    // the fast-forward reads it saves cost more (a database server's round trips).
    const applied =
      notifications.length > 1 || (context.trustCache && context.repository.fastForwardIsCostly)
        ? await context.repository.withUnitOfWork(unit, () => applyPolicies(context, reader, notifications, unit, events, traced))
        : await applyPolicies(context, reader, notifications, unit, events, traced);
    const { last, failure } = applied;
    if (last === undefined) {
      outcome = { processed: 0, recordings: [], failure };
    } else {
      const verifying = context.repository.verifyCachedReads(unit);
      if (verifying !== undefined) await verifying;
      const { upstream, pipelineId } = reader;
      const aggregates = [...unit.pending.values()];
      const options = { pipelineId, tracking: { applicationName: upstream.name, notificationId: last.id, pipelineId, previousNotificationId: previous } };
      const recordings = await (traced === undefined
        ? context.record(aggregates, events, options)
        : traced.recording(events, () => context.record(aggregates, events, options)));
      reader.advance(last.id);
      outcome = { processed: notifications.indexOf(last) + 1, recordings, failure };
    }
  } catch (error) {
    traced?.failed(error);
    throw error;
  }
  context.observer?.batchEnded(reader, notifications, outcome, performance.now() - started, traced);
  return outcome;
}

/**
 * Calls the policy for each notification, in order, until one fails: what each call saved goes into
 * the unit's pending aggregates and `events`. Returns the last notification whose call succeeded,
 * and the failure that ended the calls, if one did.
 */
async function applyPolicies(
  context: BatchContext,
  reader: UpstreamReader,
  notifications: readonly Notification[],
  unit: UnitOfWork,
  events: AggregateEvent<any>[],
  traced: TracedBatch | undefined,
): Promise<{ readonly last?: Notification; readonly failure?: PolicyError }> {
  const { upstream, pipelineId } = reader;
  let last: Notification | undefined;
  for (const notification of notifications) {
    const processEvent = new ProcessEvent();
    try {
      const domainEvent = upstream.mapper.toDomainEvent(notification);
      if (traced === undefined) await context.policy(domainEvent, processEvent);
      else await traced.policy(notification, () => context.policy(domainEvent, processEvent));
    } catch (error) {
      return { last, failure: new PolicyError(context.followerName, upstream.name, notification.id, pipelineId, error) };
    }
    for (const aggregate of processEvent.aggregates) unit.pending.set(aggregate.id, aggregate);
    events.push(...processEvent.events);
    traced?.saved(processEvent.events.length);
    last = notification;
  }
  return { last };
}
