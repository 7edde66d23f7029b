import type { Aggregate, AggregateEvent } from '../domain';

/**
 * What a policy produces for one notification: the aggregates it changed, whose new events are
 * recorded together with the tracking record of that notification, in one atomic write.
 */
export class ProcessEvent {
  readonly events: AggregateEvent<any>[] = [];
  readonly aggregates: Aggregate[] = [];

  /** Collects the new events of the aggregates, to be recorded when the policy returns. */
  save(...aggregates: Aggregate[]): void {
    for (const aggregate of aggregates) {
      this.events.push(...aggregate.collectEvents());
      if (!this.aggregates.includes(aggregate)) this.aggregates.push(aggregate);
    }
  }
}
