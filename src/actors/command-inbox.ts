import type { Application } from '../application';
import { RunnerError } from '../system';
import { CommandScheduler } from './command-scheduler';
import { checkCommand, declaredCommands, type CheckedCommand, type CommandDeclaration } from './commands';

interface Arrived {
  readonly command: CheckedCommand;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Where an application actor's commands arrive: checked at once (an unknown command or bad
 * arguments is refused before anything runs; a schema that validates asynchronously is awaited
 * first), then started together with every other command that
 * arrived in the same turn of the event loop, through the actor's CommandScheduler.
 *
 * Starting what arrived in one turn together is what lets commands share work while in flight:
 * their reads and saves overlap, so group commit and grouped reads take them in one statement even
 * on a store that answers without I/O (better-sqlite3 is synchronous, so a command started alone
 * would run to its end before the next one was even parsed). A lone command waits one turn.
 *
 * The runner's `ask` hands commands to the inbox directly; `command` messages from other actors
 * reach the same inbox through the actor, so both are run, ordered and drained alike.
 */
export class CommandInbox {
  readonly commands: ReadonlyMap<string, CommandDeclaration>;
  readonly #scheduler: CommandScheduler;
  #arrived: Arrived[] = [];
  /** Commands whose schema is still validating their arguments (asynchronously): close() waits for them. */
  readonly #checking = new Set<Promise<CheckedCommand>>();
  #closed = false;

  constructor(
    readonly app: Application,
    concurrency: number,
  ) {
    this.commands = declaredCommands(app);
    this.#scheduler = new CommandScheduler(concurrency);
  }

  /** Runs `command` with `args` and resolves with what it resolves with; rejects with its error. */
  take(command: unknown, args: unknown): Promise<unknown> {
    if (this.#closed) {
      return Promise.reject(new RunnerError(`the runner stopped before ${this.app.name}.${String(command)} was answered`));
    }
    let checked: CheckedCommand | Promise<CheckedCommand>;
    try {
      checked = checkCommand(this.app, this.commands, command, args);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!(checked instanceof Promise)) return this.#arrive(checked);
    // A schema that validates asynchronously: the command arrives once it has answered.
    const checking = checked;
    this.#checking.add(checking);
    const forget = () => void this.#checking.delete(checking);
    checking.then(forget, forget);
    return checking.then((ready) => this.#arrive(ready));
  }

  /** Refuses new commands and resolves once every command taken before has completed. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#checking.size > 0) await Promise.allSettled([...this.#checking]);
    this.#startArrived();
    await this.#scheduler.drain();
  }

  #arrive(command: CheckedCommand): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#arrived.push({ command, resolve, reject });
      if (this.#arrived.length === 1) setImmediate(this.#startArrived);
    });
  }

  readonly #startArrived = (): void => {
    const arrived = this.#arrived;
    this.#arrived = [];
    for (const { command, resolve, reject } of arrived) {
      this.#scheduler.submit(command, () => command.run().then(resolve, reject));
    }
  };
}
