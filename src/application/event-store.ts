import type { DomainEvent } from '../domain';
import type { AggregateRecorder, ApplicationRecorder, InsertEventsOptions, Mapper, SelectEventsOptions } from '../persistence';
import { GroupCommit } from './group-commit';
import { ReadGroup } from './read-group';

/**
 * Domain events in and out of one recorder, through the application's mapper. Writes without a
 * tracking record (commands' saves) to a recorder with a notification log go through group commit:
 * those made while another is in flight are written together (see GroupCommit).
 */
export class EventStore<R extends AggregateRecorder = AggregateRecorder> {
  readonly #group: GroupCommit | undefined;
  readonly #reads: ReadGroup | undefined;

  constructor(
    readonly mapper: Mapper,
    readonly recorder: R,
  ) {
    const grouping = typeof (recorder as Partial<ApplicationRecorder>).insertGroup === 'function';
    this.#group = grouping ? new GroupCommit(recorder as unknown as ApplicationRecorder) : undefined;
    this.#reads = typeof recorder.selectEventsGroup === 'function' ? new ReadGroup(recorder as never) : undefined;
  }

  /** Records the events in one atomic write; resolves with their notification ids. */
  put(events: readonly DomainEvent[], options?: InsertEventsOptions): Promise<number[]> {
    const stored = events.map((event) => this.mapper.toStoredEvent(event));
    if (this.#group !== undefined && options?.tracking === undefined) return this.#group.write(stored, options);
    return this.recorder.insertEvents(stored, options);
  }

  /** An aggregate's events; reads of all events after a version go through the read group, where the store has one. */
  async get<E extends DomainEvent = DomainEvent>(originatorId: string, options?: SelectEventsOptions): Promise<E[]> {
    const plain = options === undefined || (options.lte === undefined && options.limit === undefined && !options.desc);
    const stored =
      this.#reads !== undefined && plain && typeof originatorId === 'string'
        ? await this.#reads.read(originatorId, options?.gt)
        : await this.recorder.selectEvents(originatorId, options);
    return stored.map((event) => this.mapper.toDomainEvent<E>(event));
  }
}
