import { RunnerError } from '../system';

/** The application has no such command (it is not declared in its class's `static commands`). */
export class UnknownCommandError extends RunnerError {
  override name = 'UnknownCommandError';
}

/** A command's arguments are not an array, or too few for the method. */
export class BadCommandArgumentsError extends RunnerError {
  override name = 'BadCommandArgumentsError';
}

/** A command sent with `ask` was not answered in time (it may still complete). */
export class AskTimeoutError extends RunnerError {
  override name = 'AskTimeoutError';
}
