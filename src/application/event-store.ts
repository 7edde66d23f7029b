import type { DomainEvent } from '../domain';
import type { AggregateRecorder, InsertEventsOptions, Mapper, SelectEventsOptions } from '../persistence';

/** Domain events in and out of one recorder, through the application's mapper. */
export class EventStore<R extends AggregateRecorder = AggregateRecorder> {
  constructor(
    readonly mapper: Mapper,
    readonly recorder: R,
  ) {}

  /** Records the events in one atomic write; resolves with their notification ids. */
  put(events: readonly DomainEvent[], options?: InsertEventsOptions): Promise<number[]> {
    return this.recorder.insertEvents(
      events.map((event) => this.mapper.toStoredEvent(event)),
      options,
    );
  }

  async get<E extends DomainEvent = DomainEvent>(originatorId: string, options?: SelectEventsOptions): Promise<E[]> {
    const stored = await this.recorder.selectEvents(originatorId, options);
    return stored.map((event) => this.mapper.toDomainEvent<E>(event));
  }
}
