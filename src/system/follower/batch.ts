import type { Recording, Repository } from '../../application';
import { UnitOfWork } from '../../application/repository';
import type { AggregateEvent, DomainEvent } from '../../domain';
import type { Aggregate } from '../../domain';
import type { InsertEventsOptions, Notification } from '../../persistence';
import { PolicyError } from '../errors';
import { ProcessEvent } from '../process-event';
import type { UpstreamReader } from './upstream-reader';

/** What one batch did: how many notifications it processed, what it recorded, and how it ended early. */
export interface BatchOutcome {
  /** Notifications processed and recorded, from the first of the batch. */
  readonly processed: number;
  readonly recordings: readonly Recording[];
  /** The policy failure that ended the batch (what came before it is recorded; nothing of it is). */
  readonly failure?: PolicyError;
}

/** What a batch needs of its follower (its protected parts, handed over by the follower itself). */
export interface BatchContext {
  readonly followerName: string;
  readonly repository: Repository;
  /** Whether policies may take cached aggregates without a fast-forward read (checked before recording). */
  readonly trustCache: boolean;
  policy(domainEvent: DomainEvent, processEvent: ProcessEvent): Promise<void>;
  record(aggregates: readonly Aggregate[], events: readonly AggregateEvent<any>[], options: InsertEventsOptions): Promise<Recording[]>;
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
  const { upstream, pipelineId } = reader;
  const unit = new UnitOfWork(context.trustCache);
  const events: AggregateEvent<any>[] = [];
  let last: Notification | undefined;
  let failure: PolicyError | undefined;
  await context.repository.withUnitOfWork(unit, async () => {
    for (const notification of notifications) {
      const processEvent = new ProcessEvent();
      try {
        await context.policy(upstream.mapper.toDomainEvent(notification), processEvent);
      } catch (error) {
        failure = new PolicyError(context.followerName, upstream.name, notification.id, pipelineId, error);
        return;
      }
      for (const aggregate of processEvent.aggregates) unit.pending.set(aggregate.id, aggregate);
      events.push(...processEvent.events);
      last = notification;
    }
  });
  if (last === undefined) return { processed: 0, recordings: [], failure };
  await context.repository.verifyCachedReads(unit);
  const recordings = await context.record([...unit.pending.values()], events, {
    pipelineId,
    tracking: { applicationName: upstream.name, notificationId: last.id, pipelineId, previousNotificationId: previous },
  });
  reader.advance(last.id);
  return { processed: notifications.indexOf(last) + 1, recordings, failure };
}
