import type { Application } from '../application';
import type { ApplicationClass } from '../system';
import { BadCommandArgumentsError, UnknownCommandError } from './errors';

/** How one command runs when sent as a message (the object form of `static commands`). */
export interface CommandDeclaration {
  /**
   * The key of what the command changes (an aggregate's id, say): commands with the same key run
   * one at a time, in the order they arrive, so they never conflict with each other. Commands with
   * different keys, or none, run side by side and rely on optimistic concurrency.
   */
  readonly key?: (...args: any[]) => string;
  /** A schema of the arguments (a Standard Schema), for checks at run time. */
  readonly schema?: unknown;
  /** A read: it never waits behind commands that write. */
  readonly query?: boolean;
}

/**
 * What an application class declares callable by message: a list of method names
 * (`static commands = ['createWorld', 'makeItSo'] as const`), or an object with one declaration per
 * command (`static commands = { makeItSo: { key: (worldId: string) => worldId }, getWorldHistory: { query: true } }`).
 */
export type CommandDeclarations = readonly string[] | Readonly<Record<string, CommandDeclaration>>;

/** An application class that declares which of its methods may be called as commands by message. */
export type CommandApplicationClass<A extends Application = Application> = ApplicationClass<A> & {
  readonly commands: CommandDeclarations;
};

/** The names a class declares as commands. */
export type CommandName<C> = C extends { readonly commands: ReadonlyArray<infer K> }
  ? Extract<K, string>
  : C extends { readonly commands: infer O }
    ? Extract<keyof O, string>
    : never;

type Method<T, K> = K extends keyof T ? (T[K] extends (...args: any[]) => any ? T[K] : never) : never;

/** The arguments of command `K` of class `C`, as an array. */
export type CommandArgs<C extends ApplicationClass<any>, K> = Parameters<Method<InstanceType<C>, K>>;

/** What command `K` of class `C` resolves with. */
export type CommandResult<C extends ApplicationClass<any>, K> = Awaited<ReturnType<Method<InstanceType<C>, K>>>;

const NO_DECLARATION: CommandDeclaration = Object.freeze({});

/** The commands an application's class declares (none, unless it has `static commands`), by name. */
export function declaredCommands(app: Application): ReadonlyMap<string, CommandDeclaration> {
  const commands = (app.constructor as { commands?: unknown }).commands;
  const declared = new Map<string, CommandDeclaration>();
  if (Array.isArray(commands)) {
    for (const name of commands) if (typeof name === 'string') declared.set(name, NO_DECLARATION);
  } else if (commands !== null && typeof commands === 'object') {
    for (const [name, declaration] of Object.entries(commands as Record<string, unknown>)) {
      declared.set(name, declaration !== null && typeof declaration === 'object' ? (declaration as CommandDeclaration) : NO_DECLARATION);
    }
  }
  return declared;
}

/** A command checked and ready to run: its method, arguments and declaration, and its key if it has one. */
export interface CheckedCommand {
  readonly name: string;
  readonly declaration: CommandDeclaration;
  readonly key?: string;
  run(): Promise<unknown>;
}

/**
 * Checks command `command` of `app` with `args`: the class declares it, `args` is an array with at
 * least as many arguments as the method requires, and its key (if it declares one) is a string.
 */
export function checkCommand(app: Application, commands: ReadonlyMap<string, CommandDeclaration>, command: unknown, args: unknown): CheckedCommand {
  const declaration = typeof command === 'string' ? commands.get(command) : undefined;
  const method = declaration === undefined ? undefined : (app as unknown as Record<string, unknown>)[command as string];
  if (typeof method !== 'function') {
    throw new UnknownCommandError(
      `${app.name} has no command ${typeof command === 'string' ? `'${command}'` : String(command)} ` +
        `(its commands: ${[...commands.keys()].join(', ') || 'none; declare them with static commands = [...] as const'})`,
    );
  }
  const name = command as string;
  if (!Array.isArray(args)) {
    throw new BadCommandArgumentsError(`${app.name}.${name} needs its arguments as an array, got ${describe(args)}`);
  }
  if (args.length < method.length) {
    throw new BadCommandArgumentsError(`${app.name}.${name} takes ${method.length} argument${method.length === 1 ? '' : 's'}, got ${args.length}`);
  }
  let key: string | undefined;
  if (declaration!.key !== undefined) {
    try {
      key = declaration!.key(...args);
    } catch (error) {
      throw new BadCommandArgumentsError(`${app.name}.${name}: its key could not be made from the arguments: ${(error as Error).message}`);
    }
    if (typeof key !== 'string') throw new BadCommandArgumentsError(`${app.name}.${name}: its key must be a string, got ${describe(key)}`);
  }
  return { name, declaration: declaration!, key, run: async () => (method as (...values: unknown[]) => unknown).apply(app, args) };
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value;
}
