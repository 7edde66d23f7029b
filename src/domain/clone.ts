import type { Aggregate } from './aggregate';

/**
 * A deep copy that keeps prototypes (so class-typed values stay instances of their class). Frozen
 * objects are immutable and are shared, not copied.
 */
export function deepClone<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    const copy = new Array(value.length);
    for (let index = 0; index < value.length; index++) {
      const item = value[index];
      copy[index] = item === null || typeof item !== 'object' ? item : deepClone(item);
    }
    return copy as T;
  }
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [deepClone(k), deepClone(v)])) as T;
  if (value instanceof Set) return new Set([...value].map(deepClone)) as T;
  if (ArrayBuffer.isView(value)) {
    const view = value as unknown as Uint8Array;
    return Uint8Array.prototype.slice.call(view) as unknown as T;
  }
  const copy = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const cloned = item === null || typeof item !== 'object' ? item : deepClone(item);
    // A "__proto__" key is data here (parsed JSON can hold one): assigning it would set the prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: cloned, writable: true, enumerable: true, configurable: true });
    else copy[key] = cloned;
  }
  return copy as T;
}

/** An independent copy of an aggregate at its current version, without pending events. */
export function cloneAggregate<A extends Aggregate>(aggregate: A): A {
  const copy = new (aggregate.constructor as new () => A)();
  for (const key of Object.keys(aggregate)) {
    const item = (aggregate as Record<string, unknown>)[key];
    (copy as Record<string, unknown>)[key] = item === null || typeof item !== 'object' ? item : deepClone(item);
  }
  return copy;
}
