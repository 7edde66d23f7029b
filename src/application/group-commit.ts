import type { ApplicationRecorder, GroupedWrite, InsertEventsOptions, StoredEvent } from '../persistence';
import { WhileInFlight } from './while-in-flight';

/**
 * Group commit: a write made while another is in flight waits, with every other write made
 * meanwhile, until that one is done; then they are all written at once (recorder.insertGroup: one
 * transaction, each write accepted or refused on its own). A write made when none is in flight goes
 * at once, alone, so a single caller waits for nothing. Under load, throughput then exceeds one
 * commit (one fsync) per command.
 */
export class GroupCommit {
  readonly #writes: WhileInFlight<GroupedWrite, number[]>;

  constructor(recorder: ApplicationRecorder) {
    this.#writes = new WhileInFlight(
      (write) => recorder.insertEvents(write.events, write.options),
      (writes) => recorder.insertGroup(writes),
    );
  }

  write(events: readonly StoredEvent[], options?: InsertEventsOptions): Promise<number[]> {
    return this.#writes.run({ events, options });
  }
}
