import type { Application } from '../application';
import type { ApplicationClass } from '../system';
import { BadCommandArgumentsError, UnknownCommandError } from './errors';

/**
 * An application class that declares which of its methods may be called as commands by message:
 * `static commands = ['createWorld', 'makeItSo'] as const`.
 */
export type CommandApplicationClass<A extends Application = Application> = ApplicationClass<A> & {
  readonly commands: readonly string[];
};

/** The names a class declares as commands. */
export type CommandName<C> = C extends { readonly commands: ReadonlyArray<infer K> } ? Extract<K, string> : never;

type Method<T, K> = K extends keyof T ? (T[K] extends (...args: any[]) => any ? T[K] : never) : never;

/** The arguments of command `K` of class `C`, as an array. */
export type CommandArgs<C extends ApplicationClass<any>, K> = Parameters<Method<InstanceType<C>, K>>;

/** What command `K` of class `C` resolves with. */
export type CommandResult<C extends ApplicationClass<any>, K> = Awaited<ReturnType<Method<InstanceType<C>, K>>>;

/** The commands an application's class declares (none, unless it has `static commands`). */
export function declaredCommands(app: Application): readonly string[] {
  const commands = (app.constructor as { commands?: unknown }).commands;
  return Array.isArray(commands) ? commands.filter((name): name is string => typeof name === 'string') : [];
}

/**
 * Calls command `command` of `app` with `args`, after checking that the class declares it and
 * that `args` is an array with at least as many arguments as the method requires.
 */
export async function runCommand(app: Application, command: unknown, args: unknown): Promise<unknown> {
  const commands = declaredCommands(app);
  const method = typeof command === 'string' && commands.includes(command) ? (app as unknown as Record<string, unknown>)[command] : undefined;
  if (typeof method !== 'function') {
    throw new UnknownCommandError(
      `${app.name} has no command ${typeof command === 'string' ? `'${command}'` : String(command)} ` +
        `(its commands: ${commands.join(', ') || 'none; declare them with static commands = [...] as const'})`,
    );
  }
  if (!Array.isArray(args)) {
    throw new BadCommandArgumentsError(`${app.name}.${String(command)} needs its arguments as an array, got ${describe(args)}`);
  }
  if (args.length < method.length) {
    throw new BadCommandArgumentsError(
      `${app.name}.${String(command)} takes ${method.length} argument${method.length === 1 ? '' : 's'}, got ${args.length}`,
    );
  }
  return await (method as (...values: unknown[]) => unknown).apply(app, args);
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value;
}
