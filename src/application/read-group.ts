import type { AggregateRecorder, EventsRead, StoredEvent } from '../persistence';

interface Waiting extends EventsRead {
  resolve(events: StoredEvent[]): void;
  reject(error: unknown): void;
}

/**
 * Reads of aggregates' events (a command's, or a cached aggregate's fast-forward read), grouped as
 * saves are (see GroupCommit): a read made while another is in flight waits, with every other read
 * made meanwhile, and they go together in one statement (recorder.selectEventsGroup); a read made
 * when none is in flight goes at once, alone. Under load, concurrent commands on a database server
 * then share round trips instead of queueing for connections one read each.
 */
export class ReadGroup {
  #inFlight = false;
  #waiting: Waiting[] = [];

  constructor(private readonly recorder: AggregateRecorder & Required<Pick<AggregateRecorder, 'selectEventsGroup'>>) {}

  read(originatorId: string, gt: number | undefined): Promise<StoredEvent[]> {
    if (this.#inFlight) return new Promise((resolve, reject) => this.#waiting.push({ originatorId, gt, resolve, reject }));
    this.#inFlight = true;
    return this.alone(originatorId, gt);
  }

  private async alone(originatorId: string, gt: number | undefined): Promise<StoredEvent[]> {
    try {
      return await this.recorder.selectEvents(originatorId, { gt });
    } finally {
      this.next();
    }
  }

  private next(): void {
    const group = this.#waiting;
    if (group.length === 0) {
      this.#inFlight = false;
      return;
    }
    this.#waiting = [];
    this.recorder.selectEventsGroup(group).then(
      (events) => {
        group.forEach((read, index) => read.resolve(events[index]));
        this.next();
      },
      (error: unknown) => {
        for (const read of group) read.reject(error);
        this.next();
      },
    );
  }
}
