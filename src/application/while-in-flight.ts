interface Waiting<I, O> {
  readonly item: I;
  resolve(outcome: O): void;
  reject(error: unknown): void;
}

/**
 * Work grouped while it is in flight (group commit, grouped reads): an item that comes when nothing
 * is in flight is done at once, alone (`alone`), so a single caller waits for nothing; items that
 * come while something is in flight wait, all of them, until it is done, and are then done
 * together (`together`, which answers each item with its outcome, or the Error that refused it
 * alone). What comes while a group is in flight makes the next group.
 */
export class WhileInFlight<I, O> {
  #inFlight = false;
  #waiting: Array<Waiting<I, O>> = [];

  constructor(
    private readonly alone: (item: I) => Promise<O>,
    private readonly together: (items: readonly I[]) => Promise<ReadonlyArray<O | Error>>,
  ) {}

  run(item: I): Promise<O> {
    if (this.#inFlight) return new Promise((resolve, reject) => this.#waiting.push({ item, resolve, reject }));
    this.#inFlight = true;
    return this.runAlone(item);
  }

  private async runAlone(item: I): Promise<O> {
    try {
      return await this.alone(item);
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
    this.together(group.map((waiting) => waiting.item)).then(
      (outcomes) => {
        group.forEach((waiting, index) => {
          const outcome = outcomes[index];
          if (outcome instanceof Error) waiting.reject(outcome);
          else waiting.resolve(outcome);
        });
        this.next();
      },
      (error: unknown) => {
        for (const waiting of group) waiting.reject(error);
        this.next();
      },
    );
  }
}
