import { AsyncLocalStorage } from 'node:async_hooks';
import { Aggregate, AggregateEvent, cloneAggregate, EventSourcingError, Snapshot } from '../domain';
import { DataError } from '../persistence';
import type { AggregateCache } from './aggregate-cache';
import { AggregateNotFound } from './errors';
import type { EventStore } from './event-store';

export interface GetOptions {
  /** The aggregate as it was at this version. */
  version?: number;
}

/**
 * Reconstructs aggregates from their events: from the cache (fast-forwarded by any events recorded
 * since), else from the latest snapshot, else from the first event.
 */
export class Repository {
  readonly #pending = new AsyncLocalStorage<ReadonlyMap<string, Aggregate>>();
  /** Units of work running with pending aggregates (see withPending). */
  #pendingUnits = 0;

  /**
   * `fastForward` (default true) reads the events recorded since a cached version on every get.
   * Turn it off only where this repository's application is the sole writer of its aggregates
   * (a process application's own aggregates, say): a stale cached aggregate then still cannot be
   * saved (its version is taken: RecordConflictError, and the cache forgets it), but reads can be stale.
   */
  constructor(
    readonly events: EventStore,
    readonly snapshots?: EventStore,
    readonly cache?: AggregateCache,
    readonly fastForward = true,
  ) {}

  async get<A extends Aggregate>(aggregateId: string, options: GetOptions = {}): Promise<A> {
    const { version } = options;
    if (typeof aggregateId !== 'string' || aggregateId.length === 0) {
      throw new DataError(`an aggregate id must be a non-empty string, got ${String(aggregateId)}`);
    }
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) {
      throw new DataError(`version must be an integer >= 1, got ${String(version)}`);
    }
    if (version === undefined) {
      const pending = this.#pending.getStore()?.get(aggregateId);
      if (pending !== undefined) return cloneAggregate(pending as A);
    }
    let aggregate: A | undefined = version === undefined ? this.cache?.get<A>(aggregateId) : undefined;
    if (aggregate !== undefined && !this.fastForward) return aggregate;
    let after = aggregate?.version;
    if (aggregate === undefined && this.snapshots !== undefined) {
      const [snapshot] = await this.snapshots.get<Snapshot>(aggregateId, { desc: true, limit: 1, lte: version });
      if (snapshot !== undefined) {
        aggregate = this.fromSnapshot<A>(snapshot);
        after = snapshot.originatorVersion;
      }
    }
    const events = await this.events.get<AggregateEvent<A>>(aggregateId, { gt: after, lte: version });
    for (const event of events) aggregate = event.mutate(aggregate);
    if (aggregate === undefined) throw new AggregateNotFound(aggregateId, version);
    if (version === undefined && events.length > 0) this.cache?.advance(aggregate, events);
    return aggregate;
  }

  /** The aggregate a snapshot describes; a snapshot whose state cannot make one is a DataError naming it. */
  private fromSnapshot<A extends Aggregate>(snapshot: Snapshot): A {
    try {
      return snapshot.mutate<A>();
    } catch (error) {
      if (!(error instanceof EventSourcingError)) throw error;
      const where = this.snapshots!.mapper.applicationName;
      throw new DataError(
        `cannot make aggregate ${snapshot.originatorId} from its snapshot at version ${snapshot.originatorVersion}` +
          `${where === undefined ? '' : ` of ${where}`}: ${error.message}`,
      );
    }
  }

  /** Whether any event of this aggregate is recorded. */
  async contains(aggregateId: string): Promise<boolean> {
    return (await this.events.recorder.selectEvents(aggregateId, { limit: 1 })).length > 0;
  }

  /**
   * Runs `body` so that every `get` inside it (and only inside it) sees `pending` first: aggregates
   * changed by earlier work of one unit that is not recorded yet (a process application's batch).
   * `pending` may grow while `body` runs.
   */
  async withPending<T>(pending: ReadonlyMap<string, Aggregate>, body: () => Promise<T>): Promise<T> {
    this.#pendingUnits += 1;
    try {
      return await this.#pending.run(pending, body);
    } finally {
      // While any AsyncLocalStorage is enabled, Node runs a hook on every promise of the process:
      // switch this one off between units of work.
      if (--this.#pendingUnits === 0) this.#pending.disable();
    }
  }
}
