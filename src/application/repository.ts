import { AsyncLocalStorage } from 'node:async_hooks';
import { Aggregate, AggregateEvent, cloneAggregate, DataError, EventSourcingError, Snapshot } from '../domain';
import type { AggregateCache } from './aggregate-cache';
import { AggregateNotFound, StaleAggregateError } from './errors';
import type { EventStore } from './event-store';

/** A fast-forward read slower than this is worth a unit of work to skip (see fastForwardIsCostly). */
const COSTLY_FAST_FORWARD_MS = 0.05;

export interface GetOptions {
  /** The aggregate as it was at this version. */
  version?: number;
}

/**
 * The work of a process application's batch: the aggregates its policy calls saved (which later
 * calls of the batch see, and nothing else does until they are recorded), and the cached
 * aggregates it read without looking for newer events (see Repository.withUnitOfWork).
 */
export class UnitOfWork {
  /** The aggregates saved so far, as they are after the latest call. */
  readonly pending = new Map<string, Aggregate>();
  /** Aggregates handed out from the cache without a fast-forward read, by id: the version handed out. */
  readonly cachedReads = new Map<string, number>();

  /** `trustCache`: hand out cached aggregates without reading newer events (checked later, see verifyCachedReads). */
  constructor(readonly trustCache: boolean) {}
}

/**
 * Reconstructs aggregates from their events: from the cache (fast-forwarded by any events recorded
 * since), else from the latest snapshot, else from the first event.
 */
export class Repository {
  readonly #unit = new AsyncLocalStorage<UnitOfWork>();
  /** Units of work running (see withUnitOfWork). */
  #runningUnits = 0;
  /** How long the latest fast-forward reads took (milliseconds): their least is what one costs. */
  readonly #fastForwardMs = new Float64Array(16);
  #fastForwards = 0;
  /** fastForwardIsCostly, as of the reads so far (undefined: to be worked out again). */
  #costly: boolean | undefined = false;

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
    const unit = version === undefined ? this.#unit.getStore() : undefined;
    if (unit !== undefined) {
      const pending = unit.pending.get(aggregateId);
      if (pending !== undefined) return cloneAggregate(pending as A);
    }
    let aggregate: A | undefined = version === undefined ? this.cache?.get<A>(aggregateId) : undefined;
    if (aggregate !== undefined && !this.fastForward) return aggregate;
    if (aggregate !== undefined && unit?.trustCache) {
      if (!unit.cachedReads.has(aggregateId)) unit.cachedReads.set(aggregateId, aggregate.version);
      return aggregate;
    }
    let after = aggregate?.version;
    if (aggregate === undefined && this.snapshots !== undefined) {
      const [snapshot] = await this.snapshots.get<Snapshot>(aggregateId, { desc: true, limit: 1, lte: version });
      if (snapshot !== undefined) {
        aggregate = this.fromSnapshot<A>(snapshot);
        after = snapshot.originatorVersion;
      }
    }
    const fastForwarding = aggregate !== undefined;
    const started = fastForwarding ? performance.now() : 0;
    const events = await this.events.get<AggregateEvent<A>>(aggregateId, { gt: after, lte: version });
    if (fastForwarding) {
      this.#fastForwardMs[this.#fastForwards++ % this.#fastForwardMs.length] = performance.now() - started;
      this.#costly = undefined;
    }
    for (const event of events) aggregate = event.mutate(aggregate);
    if (aggregate === undefined) throw new AggregateNotFound(aggregateId, version);
    if (version === undefined && events.length > 0) this.cache?.advance(aggregate, events);
    return aggregate;
  }

  /**
   * Whether a fast-forward read costs more than a unit of work does to skip it: a round trip to a
   * database server does (about 0.2 ms here), a read of memory or of a local SQLite file does not
   * (a few microseconds, against the AsyncLocalStorage a unit needs: about 10 µs of a process's
   * promise hooks). A process application's batch of one notification trusts the cache only then.
   */
  get fastForwardIsCostly(): boolean {
    if (this.#costly === undefined) {
      // The least of the latest reads: a pause for garbage collection in one of them says nothing.
      let least = Infinity;
      for (const ms of this.#fastForwardMs) least = Math.min(least, ms);
      this.#costly = this.#fastForwards >= this.#fastForwardMs.length && least > COSTLY_FAST_FORWARD_MS;
    }
    return this.#costly;
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
   * Runs `body` so that every `get` inside it (and only inside it) sees the unit's pending
   * aggregates first: what earlier work of the unit (a process application's batch) saved and is
   * not recorded yet. `pending` may grow while `body` runs. With `unit.trustCache` (and
   * fast-forwarding on), a cached aggregate is handed out without reading newer events: one the
   * unit then saves needs no such read, since its write is refused if another writer recorded
   * its next version first; one the unit only reads must be checked with verifyCachedReads
   * before the unit's results are recorded.
   */
  async withUnitOfWork<T>(unit: UnitOfWork, body: () => Promise<T>): Promise<T> {
    this.#runningUnits += 1;
    try {
      return await this.#unit.run(unit, body);
    } finally {
      // While any AsyncLocalStorage is enabled, Node runs a hook on every promise of the process:
      // switch this one off between units of work.
      if (--this.#runningUnits === 0) this.#unit.disable();
    }
  }

  /**
   * Runs `body` with `pending` as the pending aggregates of a unit of work (see withUnitOfWork);
   * cached aggregates are fast-forwarded as everywhere else.
   * @deprecated use withUnitOfWork
   */
  withPending<T>(pending: Map<string, Aggregate>, body: () => Promise<T>): Promise<T> {
    const unit = new UnitOfWork(false);
    for (const [id, aggregate] of pending) unit.pending.set(id, aggregate);
    return this.withUnitOfWork(unit, body);
  }

  /**
   * Checks that the aggregates a unit of work took from the cache without a fast-forward read,
   * and did not save, are still at the version it read: a StaleAggregateError (and the cache
   * forgets them) when another writer recorded newer events of one, so the unit is done again with
   * fresh copies. The aggregates it saved need no check: their write is refused if stale.
   */
  verifyCachedReads(unit: UnitOfWork): Promise<void> | undefined {
    if (unit.cachedReads.size === 0) return undefined;
    const unsaved = [...unit.cachedReads].filter(([id]) => !unit.pending.has(id));
    if (unsaved.length === 0) return undefined;
    return this.verify(unsaved);
  }

  private async verify(unsaved: ReadonlyArray<[string, number]>): Promise<void> {
    const newer = await Promise.all(
      unsaved.map(async ([id, version]) => (await this.events.recorder.selectEvents(id, { gt: version, limit: 1 })).length > 0),
    );
    const stale = unsaved.filter((_, index) => newer[index]);
    if (stale.length === 0) return;
    for (const [id] of stale) this.cache?.evict(id);
    throw new StaleAggregateError(stale.map(([id, version]) => ({ id, version })));
  }
}
