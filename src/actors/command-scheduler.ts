import type { CheckedCommand } from './commands';

/** Lets at most `limit` tasks run at once; the others wait, in the order they asked. */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#free = limit;
  }

  acquire(): Promise<void> | undefined {
    if (this.#free > 0) {
      this.#free -= 1;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#free += 1;
  }
}

/**
 * Runs the commands sent to one application concurrently: each starts as it arrives, up to
 * `concurrency` at once; beyond that they wait in order. Commands with the same key run one at a
 * time, in the order they arrived (as an entity actor would serialise them). Queries have slots of
 * their own, so they never wait behind commands that write.
 */
export class CommandScheduler {
  readonly #writes: Slots;
  readonly #queries: Slots;
  /** The last command of each key that is waiting or running: the next one of that key waits for it. */
  readonly #tails = new Map<string, Promise<void>>();
  readonly #running = new Set<Promise<void>>();

  constructor(readonly concurrency: number) {
    this.#writes = new Slots(concurrency);
    this.#queries = new Slots(concurrency);
  }

  /** Runs `command` when its turn comes; `execute` runs it and answers (it never throws). */
  submit(command: CheckedCommand, execute: () => Promise<void>): void {
    const slots = command.declaration.query ? this.#queries : this.#writes;
    const before = command.key === undefined ? undefined : this.#tails.get(command.key);
    const task = (async () => {
      if (before !== undefined) await before;
      const wait = slots.acquire();
      if (wait !== undefined) await wait;
      try {
        await execute();
      } finally {
        slots.release();
      }
    })();
    this.#running.add(task);
    void task.finally(() => this.#running.delete(task));
    if (command.key !== undefined) {
      const key = command.key;
      this.#tails.set(key, task);
      void task.finally(() => {
        if (this.#tails.get(key) === task) this.#tails.delete(key);
      });
    }
  }

  /** Resolves when every command submitted so far has finished. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
