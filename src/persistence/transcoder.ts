import { DataError } from './errors';

/** How one custom type is turned into JSON-able data and back. */
export interface Transcoding<T = unknown, D = unknown> {
  /** Stable name written in the stored data. */
  readonly name: string;
  readonly type: abstract new (...args: never[]) => T;
  encode(value: T): D;
  decode(data: D): T;
}

/** Turns state objects into bytes and back. */
export interface Transcoder {
  encode(value: unknown): Buffer;
  decode(bytes: Uint8Array): unknown;
}

const TYPE_KEY = '$type';
const VALUE_KEY = 'v';
const BUILT_IN = new Set(['Date', 'BigInt', 'Map', 'Set', 'Bytes', 'Number', 'Undefined', 'Object']);
/** Deeper than this, encode leaves the check to the replacer path (which also reports cycles). */
const MAX_PLAIN_DEPTH = 64;

/**
 * Whether JSON.stringify alone writes `value` exactly as the replacer path would: strings,
 * booleans, null, finite numbers, and arrays and plain objects of those (undefined only as an
 * object's property, which both omit; no `$type` key, which must be escaped).
 */
function isPlainJSON(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= MAX_PLAIN_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (!isPlainJSON(value[index], depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const object = value as Record<string, unknown>;
  for (const key in object) {
    if (!Object.prototype.hasOwnProperty.call(object, key)) return false;
    if (key === TYPE_KEY) return false;
    const item = object[key];
    if (item !== undefined && !isPlainJSON(item, depth + 1)) return false;
  }
  return true;
}

/**
 * JSON with tagged values for what JSON cannot say: Date, bigint, Map, Set, bytes, non-finite
 * numbers, undefined in arrays, and any registered custom type. A tagged value is written as
 * `{"$type": name, "v": data}`; a plain object that itself has a `$type` key is escaped.
 *
 * Ours on purpose, not a serialisation library's (superjson, devalue, ...): this is the stored
 * format of every event and snapshot ever recorded, so it must read the same bytes in every later
 * version, whatever a library does in its next major; custom types are stored under names the
 * application chooses (stable across renames of the class); and plain JSON, the common case, is
 * written by JSON.stringify alone (isPlainJSON), which a general library does not know to do.
 */
export class JSONTranscoder implements Transcoder {
  readonly #byName = new Map<string, Transcoding<any, any>>();
  readonly #byType = new Map<Function, Transcoding<any, any>>();
  readonly #replacer: (this: unknown, key: string, value: unknown) => unknown;

  constructor(transcodings: readonly Transcoding<any, any>[] = []) {
    for (const transcoding of transcodings) this.register(transcoding);
    const self = this;
    this.#replacer = function (this: unknown, key: string): unknown {
      return self.#replace((this as Record<string, unknown>)[key], Array.isArray(this));
    };
  }

  register(transcoding: Transcoding<any, any>): void {
    if (BUILT_IN.has(transcoding.name)) {
      throw new DataError(`transcoding name '${transcoding.name}' is reserved for a built-in type`);
    }
    const existing = this.#byName.get(transcoding.name);
    if (existing !== undefined && existing.type !== transcoding.type) {
      throw new DataError(`two transcodings are named '${transcoding.name}'`);
    }
    this.#byName.set(transcoding.name, transcoding);
    this.#byType.set(transcoding.type, transcoding);
  }

  encode(value: unknown): Buffer {
    // Plain JSON data (the common case) is written by JSON.stringify's own fast path; anything
    // else goes through the replacer, which tags what JSON cannot say. Both write the same text
    // for plain data.
    const text = isPlainJSON(value, 0) ? JSON.stringify(value) : JSON.stringify(value, this.#replacer);
    return Buffer.from(text, 'utf8');
  }

  decode(bytes: Uint8Array): unknown {
    // Buffer#toString() without arguments is its fastest UTF-8 path.
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const text = buffer.toString();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not the parser's message: it quotes the bytes, and a record's content stays out of logs.
      throw new DataError('its state is not valid JSON');
    }
    // Only walk the parsed tree when something in it is tagged.
    return text.includes('"$type"') ? this.#reviveTree(parsed) : parsed;
  }

  /**
   * What `JSON.parse(text, reviver)` with #revive would return, walking only objects and arrays
   * (bottom-up, as JSON.parse calls a reviver) instead of calling a function for every value.
   */
  #reviveTree(value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const item = value[index];
        if (item === null || typeof item !== 'object') continue;
        const revived = this.#reviveTree(item);
        if (revived === undefined) delete value[index];
        else if (revived !== item) value[index] = revived;
      }
      return value;
    }
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      const item = object[key];
      if (item === null || typeof item !== 'object') continue;
      const revived = this.#reviveTree(item);
      if (revived === undefined) delete object[key];
      // Defined, not assigned: a key such as "__proto__" is an own property of parsed JSON.
      else if (revived !== item) Object.defineProperty(object, key, { value: revived, writable: true, enumerable: true, configurable: true });
    }
    return this.#revive(object);
  }

  // `raw` is the value before JSON.stringify called its toJSON (so a Date is still a Date).
  #replace(raw: unknown, inArray: boolean): unknown {
    switch (typeof raw) {
      case 'string':
      case 'boolean':
        return raw;
      case 'number':
        return Number.isFinite(raw) ? raw : { [TYPE_KEY]: 'Number', [VALUE_KEY]: String(raw) };
      case 'bigint':
        return { [TYPE_KEY]: 'BigInt', [VALUE_KEY]: raw.toString() };
      case 'undefined':
        return inArray ? { [TYPE_KEY]: 'Undefined' } : undefined;
      case 'function':
      case 'symbol':
        throw new DataError(`cannot encode a ${typeof raw}`);
    }
    if (raw === null) return null;
    if (Array.isArray(raw)) return raw;
    const proto = Object.getPrototypeOf(raw);
    if (proto === Object.prototype || proto === null) {
      if (Object.prototype.hasOwnProperty.call(raw, TYPE_KEY)) {
        return { [TYPE_KEY]: 'Object', [VALUE_KEY]: Object.entries(raw as object) };
      }
      return raw;
    }
    if (raw instanceof Date) {
      return { [TYPE_KEY]: 'Date', [VALUE_KEY]: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
    }
    if (raw instanceof Map) return { [TYPE_KEY]: 'Map', [VALUE_KEY]: [...raw.entries()] };
    if (raw instanceof Set) return { [TYPE_KEY]: 'Set', [VALUE_KEY]: [...raw.values()] };
    if (raw instanceof Uint8Array) {
      return { [TYPE_KEY]: 'Bytes', [VALUE_KEY]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
    }
    for (let type = proto; type !== null && type !== Object.prototype; type = Object.getPrototypeOf(type)) {
      const transcoding = this.#byType.get(type.constructor);
      if (transcoding !== undefined) {
        return { [TYPE_KEY]: transcoding.name, [VALUE_KEY]: transcoding.encode(raw) };
      }
    }
    throw new DataError(
      `cannot encode an instance of ${proto?.constructor?.name ?? 'an unknown class'}: register a transcoding for it`,
    );
  }

  #revive(value: unknown): unknown {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const tagged = value as Record<string, unknown>;
    const name = tagged[TYPE_KEY];
    if (typeof name !== 'string') return value;
    const data = tagged[VALUE_KEY];
    if (BUILT_IN.has(name)) {
      try {
        return reviveBuiltIn(name, data);
      } catch {
        throw new DataError(`its state holds a malformed value of type ${name}`);
      }
    }
    const transcoding = this.#byName.get(name);
    if (transcoding === undefined) {
      throw new DataError(`its state has a value of type '${clipName(name)}' but no transcoding is registered for it`);
    }
    // A custom decode may copy its data onto an object: data that names a prototype never reaches it.
    if (holdsProtoKey(data)) throw new DataError(`its state holds a value of type ${name} whose data has a '__proto__' key`);
    const decoded = transcoding.decode(data);
    if (!(decoded instanceof (transcoding.type as Function))) {
      throw new DataError(`the transcoding ${name} decoded its data to something that is not a ${transcoding.type.name}`);
    }
    return decoded;
  }
}

function reviveBuiltIn(name: string, data: unknown): unknown {
  switch (name) {
    case 'Date':
      return new Date(data === null ? NaN : (data as string));
    case 'BigInt':
      return BigInt(data as string);
    case 'Map':
      return new Map(data as [unknown, unknown][]);
    case 'Set':
      return new Set(data as unknown[]);
    case 'Bytes':
      if (typeof data !== 'string') throw new TypeError('bytes are a base64 string');
      return Buffer.from(data, 'base64');
    case 'Number':
      return Number(data);
    case 'Undefined':
      return undefined;
    case 'Object':
      return Object.fromEntries(data as [string, unknown][]);
  }
  throw new TypeError(`no built-in type ${name}`);
}

/** A stored type name as shown in a message (it comes from stored data). */
function clipName(name: string): string {
  const printable = name.replace(/[^\x20-\x7e]/g, '?');
  return printable.length <= 40 ? printable : `${printable.slice(0, 40)}…`;
}

/** Whether `data` has a "__proto__" own key anywhere in it. */
function holdsProtoKey(data: unknown): boolean {
  if (data === null || typeof data !== 'object') return false;
  if (Array.isArray(data)) return data.some(holdsProtoKey);
  if (Object.prototype.hasOwnProperty.call(data, '__proto__')) return true;
  return Object.values(data as Record<string, unknown>).some(holdsProtoKey);
}
