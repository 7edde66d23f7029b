import { LRUCache } from 'lru-cache';
import { Aggregate, AggregateEvent, cloneAggregate } from '../domain';

/**
 * The latest known state of recently used aggregates, least recently used first out (an
 * `lru-cache`). It holds its own copies: callers get copies too, so no two commands ever share one
 * aggregate object.
 */
export class AggregateCache {
  readonly #entries: LRUCache<string, Aggregate>;

  constructor(readonly maxSize: number) {
    this.#entries = new LRUCache({ max: maxSize });
  }

  /** A copy of the cached aggregate, or undefined. */
  get<A extends Aggregate>(id: string): A | undefined {
    const cached = this.#entries.get(id);
    return cached === undefined ? undefined : cloneAggregate(cached as A);
  }

  /** Keeps a copy of `aggregate`, unless a newer version is already cached. */
  put(aggregate: Aggregate): void {
    const cached = this.#entries.peek(aggregate.id);
    if (cached !== undefined && cached.version > aggregate.version) return;
    this.#entries.set(aggregate.id, cloneAggregate(aggregate));
  }

  /**
   * Brings the cached copy up to `aggregate`, which `events` (its latest, in order) took to its
   * version: applying them to the copy costs far less than copying a big aggregate again. Keeps a
   * new copy instead when the cached one is not at the version before them.
   */
  advance(aggregate: Aggregate, events: readonly AggregateEvent<any>[]): void {
    const cached = this.#entries.peek(aggregate.id);
    if (cached === undefined || events.length === 0 || cached.version !== aggregate.version - events.length) {
      this.put(aggregate);
      return;
    }
    try {
      for (const event of events) event.mutate(cached);
    } catch {
      this.#entries.delete(aggregate.id); // half-applied: forget it, the store has it all
      return;
    }
    this.#entries.get(aggregate.id); // now the most recently used
  }

  evict(id: string): void {
    this.#entries.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }
}
