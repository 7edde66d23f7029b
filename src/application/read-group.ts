import type { AggregateRecorder, EventsRead, StoredEvent } from '../persistence';
import { WhileInFlight } from './while-in-flight';

/**
 * Reads of aggregates' events (a command's, or a cached aggregate's fast-forward read), grouped as
 * saves are (see GroupCommit): a read made while another is in flight waits, with every other read
 * made meanwhile, and they go together in one statement (recorder.selectEventsGroup); a read made
 * when none is in flight goes at once, alone. Under load, concurrent commands on a database server
 * then share round trips instead of queueing for connections one read each.
 */
export class ReadGroup {
  readonly #reads: WhileInFlight<EventsRead, StoredEvent[]>;

  constructor(recorder: AggregateRecorder & Required<Pick<AggregateRecorder, 'selectEventsGroup'>>) {
    this.#reads = new WhileInFlight(
      (read) => recorder.selectEvents(read.originatorId, { gt: read.gt }),
      (reads) => recorder.selectEventsGroup(reads),
    );
  }

  read(originatorId: string, gt: number | undefined): Promise<StoredEvent[]> {
    return this.#reads.run({ originatorId, gt });
  }
}
