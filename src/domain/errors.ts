/**
 * Base class of every error this library raises. Each layer owns its errors (domain, persistence,
 * application, system, actors) and extends this one. An error serialises to JSON as its class name
 * and message (a plain Error serialises as `{}`), so that status reports and logs keep both.
 */
export class EventSourcingError extends Error {
  override name = 'EventSourcingError';

  toJSON(): { name: string; message: string } {
    return { name: this.name, message: this.message };
  }
}

/** A call or a stored record is malformed: wrong arguments, bad names, undecodable data (any layer). */
export class DataError extends EventSourcingError {
  override name = 'DataError';
}

/** Wrong configuration: a setting, an option or a name that cannot work (names what is at fault; any layer). */
export class ConfigurationError extends EventSourcingError {
  override name = 'ConfigurationError';
}

/** Raised for a topic that is not registered, or for two classes claiming one topic. */
export class TopicError extends EventSourcingError {
  override name = 'TopicError';
}

/** Raised when an event does not fit the aggregate it is applied to (wrong id or version). */
export class OriginatorError extends EventSourcingError {
  override name = 'OriginatorError';
}

/** Raised when stored state cannot be brought up to a class's current version. */
export class UpcastError extends EventSourcingError {
  override name = 'UpcastError';
}

/**
 * Raised when state would set something on an object that is not a plain data field of it: its
 * prototype (`__proto__`), `constructor`, `prototype`, or a method or accessor of its class.
 */
export class StateFieldError extends EventSourcingError {
  override name = 'StateFieldError';
}

/**
 * The error itself when it is one of this library's; else the same error, given a `toJSON` that
 * keeps its class name and message (so that it survives JSON as `{ name, message }`).
 */
export function serialisableError(error: unknown): Error {
  const real = error instanceof Error ? error : new Error(String(error));
  if (typeof (real as { toJSON?: unknown }).toJSON === 'function') return real;
  if (!Object.isExtensible(real)) {
    // A frozen error cannot take a toJSON: one of ours stands in for it, with its name and message.
    const copy = new EventSourcingError(real.message, { cause: real });
    copy.name = real.name;
    return copy;
  }
  Object.defineProperty(real, 'toJSON', {
    value: () => ({ name: real.name, message: real.message }),
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return real;
}
