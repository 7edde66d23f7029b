import { UpcastError } from './errors';

export type StateObject = Record<string, unknown>;

/** Turns stored state of version `n` into state of version `n + 1`. */
export type Upcaster = (state: StateObject) => StateObject;

/**
 * What a stored class declares about the shape of its state: `classVersion` (default 1) and one
 * upcaster per older version, keyed by the version it upcasts from.
 */
export interface Versioned {
  classVersion?: number;
  upcasters?: Readonly<Record<number, Upcaster>>;
}

/** The key under which state of a class version above 1 records its version. */
export const CLASS_VERSION_KEY = '$v';

export function classVersionOf(cls: Versioned & { name: string }): number {
  const version = cls.classVersion ?? 1;
  if (!Number.isInteger(version) || version < 1) {
    throw new UpcastError(`classVersion of ${cls.name} must be an integer >= 1, got ${String(version)}`);
  }
  return version;
}

/** Checks at registration that every step from version 1 up to the current version exists. */
export function checkUpcasters(cls: Versioned & { name: string }): void {
  const version = classVersionOf(cls);
  for (let from = 1; from < version; from++) {
    if (typeof cls.upcasters?.[from] !== 'function') {
      throw new UpcastError(`${cls.name} has classVersion ${version} but no upcaster from version ${from}`);
    }
  }
}

/** Brings `state` (which may carry its stored version) up to the class's current version. */
export function upcast(cls: Versioned & { name: string }, state: StateObject): StateObject {
  const current = classVersionOf(cls);
  const stored = state[CLASS_VERSION_KEY];
  let version = stored === undefined ? 1 : stored;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    // The stored value is not shown: a corrupt record's content stays out of logs and status.
    throw new UpcastError(`stored state of ${cls.name} has an invalid class version (not an integer >= 1)`);
  }
  if (version > current) {
    throw new UpcastError(
      `stored state of ${cls.name} has class version ${version}, newer than this code's ${current}`,
    );
  }
  if (stored !== undefined) {
    state = { ...state };
    delete state[CLASS_VERSION_KEY];
  }
  while (version < current) {
    const step = cls.upcasters?.[version];
    if (typeof step !== 'function') {
      throw new UpcastError(`${cls.name} has no upcaster from version ${version}`);
    }
    state = step(state);
    version += 1;
  }
  return state;
}
