import type { DomainEvent } from '../domain';
import type { AggregateRecorder, ApplicationRecorder, InsertEventsOptions, Mapper, SelectEventsOptions } from '../persistence';
import { GroupCommit } from './group-commit';

/**
 * Domain events in and out of one recorder, through the application's mapper. Writes without a
 * tracking record (commands' saves) to a recorder with a notification log go through group commit:
 * those made while another is in flight are written together (see GroupCommit).
 */
export class EventStore<R extends AggregateRecorder = AggregateRecorder> {
  readonly #group: GroupCommit | undefined;

  constructor(
    readonly mapper: Mapper,
    readonly recorder: R,
  ) {
    const grouping = typeof (recorder as Partial<ApplicationRecorder>).insertGroup === 'function';
    this.#group = grouping ? new GroupCommit(recorder as unknown as ApplicationRecorder) : undefined;
  }

  /** Records the events in one atomic write; resolves with their notification ids. */
  put(events: readonly DomainEvent[], options?: InsertEventsOptions): Promise<number[]> {
    const stored = events.map((event) => this.mapper.toStoredEvent(event));
    if (this.#group !== undefined && options?.tracking === undefined) return this.#group.write(stored, options);
    return this.recorder.insertEvents(stored, options);
  }

  async get<E extends DomainEvent = DomainEvent>(originatorId: string, options?: SelectEventsOptions): Promise<E[]> {
    const stored = await this.recorder.selectEvents(originatorId, options);
    return stored.map((event) => this.mapper.toDomainEvent<E>(event));
  }
}
