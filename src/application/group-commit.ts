import type { ApplicationRecorder, GroupedWrite, InsertEventsOptions, StoredEvent } from '../persistence';

interface Waiting extends GroupedWrite {
  resolve(ids: number[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit: a write made while another is in flight waits, with every other write made
 * meanwhile, until that one is done; then they are all written at once (recorder.insertGroup: one
 * transaction, each write accepted or refused on its own). A write made when none is in flight goes
 * at once, alone, so a single caller waits for nothing. Under load, throughput then exceeds one
 * commit (one fsync) per command.
 */
export class GroupCommit {
  #inFlight = false;
  #waiting: Waiting[] = [];

  constructor(private readonly recorder: ApplicationRecorder) {}

  write(events: readonly StoredEvent[], options?: InsertEventsOptions): Promise<number[]> {
    if (this.#inFlight) return new Promise((resolve, reject) => this.#waiting.push({ events, options, resolve, reject }));
    this.#inFlight = true;
    return this.alone(events, options);
  }

  private async alone(events: readonly StoredEvent[], options: InsertEventsOptions | undefined): Promise<number[]> {
    try {
      return await this.recorder.insertEvents(events, options);
    } finally {
      this.next();
    }
  }

  /** Writes everything that waited, as one group; the next group is what waits meanwhile. */
  private next(): void {
    const group = this.#waiting;
    if (group.length === 0) {
      this.#inFlight = false;
      return;
    }
    this.#waiting = [];
    this.recorder.insertGroup(group).then(
      (outcomes) => {
        outcomes.forEach((outcome, index) => (outcome instanceof Error ? group[index].reject(outcome) : group[index].resolve(outcome)));
        this.next();
      },
      (error: unknown) => {
        for (const write of group) write.reject(error);
        this.next();
      },
    );
  }
}
