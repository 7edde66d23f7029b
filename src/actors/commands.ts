import type { Application } from '../application';
import { RunnerError, type ApplicationClass } from '../system';
import { BadCommandArgumentsError, UnknownCommandError } from './errors';

/**
 * The Standard Schema interface, version 1 (https://standardschema.dev), which zod, valibot, ArkType
 * and others implement: a schema has `'~standard'.validate(value)`, which returns (or resolves with)
 * either `{ value }` or `{ issues }`. Copied here, as the spec advises libraries to do, so that this
 * package's declarations need no package of types (the tests check it against `@standard-schema/spec`).
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

export declare namespace StandardSchemaV1 {
  interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown, options?: Options | undefined) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
  }
  type Result<Output> = SuccessResult<Output> | FailureResult;
  interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  interface Options {
    readonly libraryOptions?: Record<string, unknown> | undefined;
  }
  interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  interface PathSegment {
    readonly key: PropertyKey;
  }
  interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
  type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['input'];
  type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['output'];
}

/** How one command runs when sent as a message (the object form of `static commands`). */
export interface CommandDeclaration {
  /**
   * The key of what the command changes (an aggregate's id, say): commands with the same key run
   * one at a time, in the order they arrive, so they never conflict with each other. Commands with
   * different keys, or none, run side by side and rely on optimistic concurrency.
   */
  readonly key?: (...args: any[]) => string;
  /**
   * A Standard Schema (zod, valibot, ...) of the arguments **as an array** (`z.tuple([...])`),
   * checked when the command arrives: arguments that do not match are refused with a
   * BadCommandArgumentsError that lists the schema's issues, and nothing runs. What the schema
   * outputs (its defaults and transforms applied) is what the method and `key` are called with.
   * With a schema, `ask` takes the schema's input type as the arguments.
   */
  readonly schema?: StandardSchemaV1<any, readonly unknown[]>;
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

/** The declaration of command `K` of class `C` in the object form of `static commands` (undefined for the list form). */
type DeclarationOf<C, K> = C extends { readonly commands: infer O }
  ? O extends readonly unknown[]
    ? undefined
    : K extends keyof O
      ? O[K]
      : undefined
  : undefined;

/**
 * Stands for the arguments of a command whose schema's output the method cannot take: no value has
 * this type, so every `ask` of that command fails to compile, naming both types.
 */
export interface SchemaDoesNotFitMethod<Output, Parameters> {
  readonly 'the schema outputs': Output;
  readonly 'the method takes': Parameters;
}

/**
 * The arguments of command `K` of class `C`, as an array: the method's parameters, or, when the
 * command declares a schema, the schema's input type (what the schema takes; for a schema without
 * transforms or defaults that is its output too), provided its output fits the method's parameters.
 */
export type CommandArgs<C extends ApplicationClass<any>, K> =
  DeclarationOf<C, K> extends { readonly schema: StandardSchemaV1<infer Input, infer Output> }
    ? Output extends Parameters<Method<InstanceType<C>, K>>
      ? Input
      : SchemaDoesNotFitMethod<Output, Parameters<Method<InstanceType<C>, K>>>
    : Parameters<Method<InstanceType<C>, K>>;

/** What command `K` of class `C` resolves with. */
export type CommandResult<C extends ApplicationClass<any>, K> = Awaited<ReturnType<Method<InstanceType<C>, K>>>;

const NO_DECLARATION: CommandDeclaration = Object.freeze({});

/**
 * The commands an application's class declares (none, unless it has `static commands`), by name.
 * A declaration whose schema is not a Standard Schema, or whose key is not a function, is a
 * RunnerError naming the class and the command (the runner does not start).
 */
export function declaredCommands(app: Application): ReadonlyMap<string, CommandDeclaration> {
  const commands = (app.constructor as { commands?: unknown }).commands;
  const declared = new Map<string, CommandDeclaration>();
  if (Array.isArray(commands)) {
    for (const name of commands) if (typeof name === 'string') declared.set(name, NO_DECLARATION);
  } else if (commands !== null && typeof commands === 'object') {
    for (const [name, declaration] of Object.entries(commands as Record<string, unknown>)) {
      if (declaration === null || typeof declaration !== 'object') {
        declared.set(name, NO_DECLARATION);
        continue;
      }
      const { key, schema } = declaration as { key?: unknown; schema?: unknown };
      if (key !== undefined && typeof key !== 'function') {
        throw new RunnerError(`${app.name}.${name}: its key must be a function of the arguments, got ${describe(key)}`);
      }
      if (schema !== undefined && typeof (schema as Partial<StandardSchemaV1> | null)?.['~standard']?.validate !== 'function') {
        throw new RunnerError(
          `${app.name}.${name}: its schema must be a Standard Schema (an object with '~standard'.validate, as zod, valibot and ArkType make), got ${describe(schema)}`,
        );
      }
      declared.set(name, declaration as CommandDeclaration);
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

type CommandMethod = (...values: unknown[]) => unknown;

/**
 * Checks command `command` of `app` with `args`: the class declares it, `args` is an array, it
 * matches the command's schema if it declares one (then the schema's output is the arguments), it
 * has at least as many arguments as the method requires, and its key (if it declares one) is a string.
 *
 * Synchronous unless the schema's validation is not: a schema that answers at once adds no turn
 * of the event loop. Throws (or rejects with) UnknownCommandError or BadCommandArgumentsError.
 */
export function checkCommand(
  app: Application,
  commands: ReadonlyMap<string, CommandDeclaration>,
  command: unknown,
  args: unknown,
): CheckedCommand | Promise<CheckedCommand> {
  const declaration = typeof command === 'string' ? commands.get(command) : undefined;
  const method = declaration === undefined ? undefined : (app as unknown as Record<string, unknown>)[command as string];
  if (declaration === undefined || typeof method !== 'function') {
    throw new UnknownCommandError(
      `${app.name} has no command ${typeof command === 'string' ? `'${command}'` : String(command)} ` +
        `(its commands: ${[...commands.keys()].join(', ') || 'none; declare them with static commands = [...] as const'})`,
    );
  }
  const name = command as string;
  if (!Array.isArray(args)) {
    throw new BadCommandArgumentsError(`${app.name}.${name} needs its arguments as an array, got ${describe(args)}`);
  }
  const { schema } = declaration;
  if (schema === undefined) return ready(app, name, declaration, method as CommandMethod, args);
  let result: StandardSchemaV1.Result<readonly unknown[]> | Promise<StandardSchemaV1.Result<readonly unknown[]>>;
  try {
    result = schema['~standard'].validate(args);
  } catch (error) {
    throw schemaFailed(app, name, error);
  }
  const validated = (outcome: StandardSchemaV1.Result<readonly unknown[]>) =>
    ready(app, name, declaration, method as CommandMethod, validatedArgs(app, name, outcome));
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(validated, (error: unknown) => {
      throw schemaFailed(app, name, error);
    });
  }
  return validated(result);
}

/** The arguments a schema's answer gives, or the BadCommandArgumentsError of its issues. */
function validatedArgs(app: Application, name: string, outcome: StandardSchemaV1.Result<readonly unknown[]>): unknown[] {
  if (outcome === null || typeof outcome !== 'object') {
    throw new RunnerError(`${app.name}.${name}: its schema answered ${describe(outcome)}, not a Standard Schema result ({ value } or { issues })`);
  }
  if (outcome.issues) {
    const issues = outcome.issues.map((issue) => ({
      message: String(issue.message),
      path: (issue.path ?? []).map((segment) => (segment !== null && typeof segment === 'object' ? segment.key : segment)),
    }));
    const listed = issues.map((issue) => `${argumentPath(issue.path)}: ${issue.message}`).join('; ');
    throw new BadCommandArgumentsError(`${app.name}.${name}: the arguments do not match its schema: ${listed || 'the schema gave no reason'}`, issues);
  }
  if (!Array.isArray(outcome.value)) {
    throw new RunnerError(`${app.name}.${name}: its schema must output the arguments as an array, it output ${describe(outcome.value)}`);
  }
  return outcome.value;
}

/** The command, once its arguments are what the method is called with. */
function ready(app: Application, name: string, declaration: CommandDeclaration, method: CommandMethod, args: readonly unknown[]): CheckedCommand {
  if (args.length < method.length) {
    throw new BadCommandArgumentsError(`${app.name}.${name} takes ${method.length} argument${method.length === 1 ? '' : 's'}, got ${args.length}`);
  }
  let key: string | undefined;
  if (declaration.key !== undefined) {
    try {
      key = declaration.key(...args);
    } catch (error) {
      throw new BadCommandArgumentsError(`${app.name}.${name}: its key could not be made from the arguments: ${(error as Error).message}`);
    }
    if (typeof key !== 'string') throw new BadCommandArgumentsError(`${app.name}.${name}: its key must be a string, got ${describe(key)}`);
  }
  return { name, declaration, key, run: async () => method.apply(app, args as unknown[]) };
}

function schemaFailed(app: Application, name: string, error: unknown): RunnerError {
  const failed = new RunnerError(
    `${app.name}.${name}: its schema failed instead of answering: ${error instanceof Error ? error.message : String(error)}`,
  );
  (failed as { cause?: unknown }).cause = error;
  return failed;
}

/** An issue's path, from the arguments array: `args[1]`, `args[0].address.city`, `args` for the array itself. */
function argumentPath(path: readonly PropertyKey[]): string {
  let text = 'args';
  for (const key of path) {
    if (typeof key === 'number' || (typeof key === 'string' && /^\d+$/.test(key))) text += `[${String(key)}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) text += `.${key}`;
    else text += `[${typeof key === 'string' ? JSON.stringify(key) : String(key)}]`;
  }
  return text;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value;
}
