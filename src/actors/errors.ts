import { RunnerError } from '../system';

/** The application has no such command (it is not declared in its class's `static commands`). */
export class UnknownCommandError extends RunnerError {
  override name = 'UnknownCommandError';
}

/** One way a command's arguments do not match its schema: the schema's message, and where (from the arguments array). */
export interface CommandArgumentIssue {
  readonly message: string;
  /** The keys from the arguments array down to the value at fault (`[1]`, `[0, 'address', 'city']`); empty for the array itself. */
  readonly path: readonly PropertyKey[];
}

/**
 * A command's arguments are not an array, too few for the method, or do not match the command's
 * schema (then `issues` holds the schema's issues, and the message lists each with its path).
 */
export class BadCommandArgumentsError extends RunnerError {
  override name = 'BadCommandArgumentsError';

  constructor(
    message: string,
    readonly issues: readonly CommandArgumentIssue[] = [],
  ) {
    super(message);
  }
}

/** A command sent with `ask` was not answered in time (it may still complete). */
export class AskTimeoutError extends RunnerError {
  override name = 'AskTimeoutError';
}
