import { DataError } from '../domain/errors';
import { RecordConflictError } from './errors';
import type { StoredEvent, Tracking } from './records';
import type { GroupedWrite, InsertEventsOptions } from './recorders';
import { checkDistinctVersions, checkPipelineId, checkStoredEvents, checkTracking } from './validation';

/** A rung of the recorder ladder: what its insertEvents writes besides the events. */
export interface Rung {
  /** Application and process recorders: a pipeline id with each event, and notification ids. */
  readonly notified: boolean;
  /** Process recorders: the tracking record, in the same transaction. */
  readonly tracked: boolean;
}

export const AGGREGATE_RUNG: Rung = { notified: false, tracked: false };
export const APPLICATION_RUNG: Rung = { notified: true, tracked: false };
export const PROCESS_RUNG: Rung = { notified: true, tracked: true };

/** One insertEvents call, checked: what its steps write. */
export interface EventsWrite {
  readonly events: readonly StoredEvent[];
  /** 0 below the application rung, which records none. */
  readonly pipelineId: number;
  /** Only on the process rung: the other rungs ignore `options.tracking`. */
  readonly tracking: Tracking | undefined;
}

/** The steps of one write, given the transaction they write in. */
export type WriteSteps<T> = (transaction: T, write: EventsWrite) => void;

/** The check step: every store checks the same things, in the same order, before anything is written. */
export function checkWrite(rung: Rung, events: readonly StoredEvent[], options: InsertEventsOptions | undefined, where: string): EventsWrite {
  checkStoredEvents(events);
  checkDistinctVersions(events, where);
  const pipelineId = rung.notified ? checkPipelineId(options?.pipelineId) : 0;
  const tracking = rung.tracked ? options?.tracking : undefined;
  if (tracking !== undefined) checkTracking(tracking);
  return { events, pipelineId, tracking };
}

/**
 * insertEvents, written once for every store and rung: check; then, in one transaction, write the
 * tracking record (a compare-and-set) and write the events; then report the notification ids. A
 * store supplies only the steps; each rung of its ladder overrides the same ones (the application
 * rung writeEvents and notificationIds, the process rung writeTracking) and names itself (`rung`).
 *
 * `T` is the store's transaction as its steps see it: memory, what to undo; SQLite, the ids of the
 * open immediate transaction; PostgreSQL, the statement being built (it sends a write as one).
 */
export abstract class InsertEventsTemplate<T> {
  protected abstract readonly rung: Rung;
  /** Names the write in the messages of conflicts: "insertEvents on worlds_events". */
  protected abstract readonly insertOperation: string;

  async insertEvents(events: readonly StoredEvent[], options?: InsertEventsOptions): Promise<number[]> {
    const write = checkWrite(this.rung, events, options, this.insertOperation);
    const committed = this.inTransaction(write, this.writeSteps);
    // Stores that write synchronously (memory, SQLite) are not kept waiting for a turn of the event loop.
    return this.notificationIds(committed instanceof Promise ? await committed : committed, write);
  }

  /**
   * Records several independent writes (of no tracking record) at once: in one transaction where
   * the store can, each accepted or refused on its own. Resolves with, for each write, its
   * notification ids, or the error that refused it alone (RecordConflictError, DataError); an error
   * that is no write's (the database went away) rejects the whole group.
   */
  async insertGroup(writes: readonly GroupedWrite[]): Promise<Array<number[] | Error>> {
    const results = new Array<number[] | Error>(writes.length);
    const checked: Array<{ readonly index: number; readonly write: EventsWrite }> = [];
    writes.forEach(({ events, options }, index) => {
      try {
        if (options?.tracking !== undefined) throw new DataError('a write of a group takes no tracking record');
        checked.push({ index, write: checkWrite(this.rung, events, options, this.insertOperation) });
      } catch (error) {
        results[index] = error instanceof Error ? error : new Error(String(error));
      }
    });
    if (checked.length > 0) {
      const outcomes = await this.inGroup(checked.map((entry) => entry.write), this.writeSteps);
      outcomes.forEach((outcome, index) => (results[checked[index].index] = outcome));
    }
    return results;
  }

  /**
   * Runs the steps of each write, each accepted (its notification ids) or refused by a conflict of
   * its own (the RecordConflictError). By default one write after another, each in a transaction
   * of its own; a store overrides it to write the group in one transaction.
   */
  protected async inGroup(writes: readonly EventsWrite[], steps: WriteSteps<T>): Promise<Array<number[] | Error>> {
    const outcomes: Array<number[] | Error> = [];
    for (const write of writes) {
      try {
        const committed = this.inTransaction(write, steps);
        outcomes.push(this.notificationIds(committed instanceof Promise ? await committed : committed, write));
      } catch (error) {
        if (!(error instanceof RecordConflictError)) throw error;
        outcomes.push(error);
      }
    }
    return outcomes;
  }

  /** The steps of one write, in the transaction. */
  protected readonly writeSteps = (transaction: T, write: EventsWrite): void => {
    // Tracking first: a write that conflicts on both raises TrackingConflictError (another run
    // processed these notifications), and the events are not even tried.
    if (write.tracking !== undefined) this.writeTracking(transaction, write.tracking);
    this.writeEvents(transaction, write);
  };

  /**
   * Runs `steps(transaction, write)` in one transaction and returns it once committed; anything the
   * steps throw rolls the whole of it back and is rethrown. It takes one write; a group commit would
   * pass several, running the steps of each in a savepoint of the one transaction, so that each is
   * accepted or refused alone.
   */
  protected abstract inTransaction(write: EventsWrite, steps: WriteSteps<T>): T | Promise<T>;

  /** Process rung: moves the upstream's position by compare-and-set, else TrackingConflictError. */
  protected writeTracking(_transaction: T, tracking: Tracking): void {
    throw new Error(`${this.constructor.name} cannot record the tracking of ${tracking.applicationName}: it is not a process recorder`);
  }

  /** Writes the events (with the pipeline id from the application rung on); a taken version raises RecordConflictError. */
  protected abstract writeEvents(transaction: T, write: EventsWrite): void;

  /** The events' notification ids, in the order of the events; none below the application rung. */
  protected notificationIds(_transaction: T, _write: EventsWrite): number[] {
    return [];
  }
}
