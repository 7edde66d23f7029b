import { StateFieldError } from './errors';

/** Keys that name an object's machinery, never its data. */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The first key of `state` that would not become a plain own data field of an object whose
 * prototype is `prototype`: `__proto__` (it would replace the prototype), `constructor`,
 * `prototype`, or any name the prototype chain already has (a method or accessor, whose setter
 * would run or which the field would hide). Undefined when every key is a plain field.
 */
export function unsafeFieldOf(state: object, prototype: object): string | undefined {
  // for...in (no array made), which also sees inherited enumerable keys: stricter, never looser.
  for (const key in state) {
    if (key in prototype || FORBIDDEN.has(key)) return key;
  }
  return undefined;
}

/**
 * Copies the own fields of `state` onto `target` as plain data fields, after checking them with
 * unsafeFieldOf against `target`'s prototype; StateFieldError (nothing copied) when one is not.
 */
export function assignFields(target: object, state: object): void {
  const prototype = Object.getPrototypeOf(target) as object;
  const bad = unsafeFieldOf(state, prototype);
  if (bad !== undefined) {
    const className = (prototype as { constructor?: { name?: string } }).constructor?.name ?? 'an object';
    throw new StateFieldError(`${className} cannot take a field named '${bad}': it is not a plain data field of the class`);
  }
  Object.assign(target, state);
}
