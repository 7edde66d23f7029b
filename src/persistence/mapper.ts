import { freeze, immerable, isDraft } from 'immer';
// From the modules that define them, not '../domain': a re-exported binding is a getter, and these
// are called for every event.
import { topicOf } from '../domain/aggregate';
import { TopicError } from '../domain/errors';
import { DomainEvent, type EventClass } from '../domain/events';
import { unsafeFieldOf } from '../domain/fields';
import { Snapshot } from '../domain/snapshot';
import { resolveTopic } from '../domain/topics';
import { CLASS_VERSION_KEY, classVersionOf, StateObject, upcast } from '../domain/upcasting';
import { AesGcmCipher } from './cipher';
import { ZlibCompressor } from './compressor';
import { DataError } from './errors';
import type { Notification, StoredEvent } from './records';
import { JSONTranscoder, Transcoder } from './transcoder';

// immer's exports, read once (a module's exports can be getters).
const immerFreeze = freeze;
const isImmerDraft = isDraft;
const IMMERABLE: symbol = immerable;

export interface MapperOptions {
  transcoder?: Transcoder;
  compressor?: ZlibCompressor;
  cipher?: AesGcmCipher;
  /** The application whose events these are, named in errors (and its settings' prefix). */
  applicationName?: string;
}

/** Stored values shown in messages are cut to this many characters. */
const SHOWN_LENGTH = 80;

function clip(text: string): string {
  return text.length <= SHOWN_LENGTH ? text : `${text.slice(0, SHOWN_LENGTH)}…`;
}

function parsesAsJson(bytes: Uint8Array): boolean {
  try {
    JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString());
    return true;
  } catch {
    return false;
  }
}

function inflates(bytes: Uint8Array): boolean {
  try {
    new ZlibCompressor().decompress(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Domain event ⇄ stored event. The state is the event's own fields (without the originator id and
 * version, which the stored event holds), transcoded, then compressed, then encrypted. The
 * timestamp, a Date in every event, is written as its ISO string and made a Date again on read.
 */
export class Mapper {
  readonly transcoder: Transcoder;
  readonly compressor?: ZlibCompressor;
  readonly cipher?: AesGcmCipher;
  readonly applicationName?: string;

  constructor(options: MapperOptions = {}) {
    this.transcoder = options.transcoder ?? new JSONTranscoder();
    this.compressor = options.compressor;
    this.cipher = options.cipher;
    this.applicationName = options.applicationName;
  }

  toStoredEvent(event: DomainEvent): StoredEvent {
    const cls = event.constructor as EventClass;
    const topic = topicOf(cls);
    const { originatorId, originatorVersion, ...state } = event as DomainEvent & StateObject;
    // Every event's timestamp is a Date: it is written as its ISO string (restored on read), so
    // that the state of most events is plain JSON, which is read without walking it.
    const timestamp = state.timestamp;
    if (timestamp instanceof Date && !Number.isNaN(timestamp.getTime())) {
      (state as StateObject).timestamp = timestamp.toISOString();
    }
    const version = classVersionOf(cls as EventClass & { name: string });
    if (version > 1) state[CLASS_VERSION_KEY] = version;
    let bytes: Uint8Array = this.transcoder.encode(state);
    if (this.compressor) bytes = this.compressor.compress(bytes);
    if (this.cipher) bytes = this.cipher.encrypt(bytes);
    return { originatorId, originatorVersion, topic, state: bytes };
  }

  /**
   * The domain event a stored event (or notification) holds. A record that cannot be decoded is a
   * DataError naming it (application, topic, originator, version, notification id), never its
   * content: undecodable bytes, state that would set anything but plain data fields of the event
   * (its prototype through `__proto__`, `constructor`, a method or accessor), a topic that names a
   * class that is not an event class. An unknown topic is a TopicError naming the record.
   */
  toDomainEvent<E extends DomainEvent = DomainEvent>(stored: StoredEvent | Notification): E {
    let cls: EventClass & { name: string };
    try {
      cls = resolveTopic(stored.topic) as EventClass & { name: string };
    } catch (error) {
      if (!(error instanceof TopicError)) throw error;
      throw new TopicError(`cannot decode ${this.describe(stored)}: ${error.message}`);
    }
    if (!(cls.prototype instanceof DomainEvent)) {
      throw new DataError(`cannot decode ${this.describe(stored)}: its topic names ${cls.name}, which is not an event class`);
    }
    let state: StateObject;
    try {
      state = this.decodeState(stored.state);
      // Written as an ISO string (older states hold a tagged Date, which the transcoder restores).
      if (typeof state.timestamp === 'string') state.timestamp = new Date(state.timestamp);
      // A snapshot's inner state is upcast by the aggregate class when the snapshot is used.
      if (cls !== Snapshot) state = upcast(cls, state);
    } catch (error) {
      if (error instanceof TopicError) throw error;
      throw new DataError(`cannot decode ${this.describe(stored)}: ${(error as Error).message}`);
    }
    const unsafe = unsafeFieldOf(state, cls.prototype as object);
    if (unsafe !== undefined) {
      throw new DataError(
        `cannot decode ${this.describe(stored)}: its state sets '${clip(unsafe)}', which is not a plain data field of ${cls.name}`,
      );
    }
    const event = Object.create(cls.prototype) as E;
    const fields = event as unknown as { originatorId: string; originatorVersion: number };
    // The originator's fields first, as in events that are made (so both have one shape), and again
    // after the state, so that nothing in the state overrides them.
    fields.originatorId = stored.originatorId;
    fields.originatorVersion = stored.originatorVersion;
    Object.assign(event, state);
    fields.originatorId = stored.originatorId;
    fields.originatorVersion = stored.originatorVersion;
    // A snapshot's state becomes a live aggregate's state, so it is frozen at the top only.
    if (cls === Snapshot) return Object.freeze(event);
    // immer's freeze(event, true), which events get when they are made: the event (a new object
    // of an immerable class) is frozen, then each of its values deeply.
    Object.freeze(event);
    for (const key of Object.keys(event)) deepFreeze((event as Record<string, unknown>)[key]);
    return event;
  }

  /** "stored event 'T' v3 of X (notification 7) of App", for errors. */
  describe(stored: StoredEvent | Notification): string {
    const id = (stored as Partial<Notification>).id;
    return (
      `stored event '${clip(String(stored.topic))}' v${stored.originatorVersion} of ${clip(String(stored.originatorId))}` +
      (id === undefined ? '' : ` (notification ${id})`) +
      (this.applicationName === undefined ? '' : ` of ${this.applicationName}`)
    );
  }

  /** Stored bytes to a state object: decrypted, decompressed, decoded; errors say which step failed, and why. */
  private decodeState(stored: Uint8Array): StateObject {
    let bytes = stored;
    if (this.cipher) {
      try {
        bytes = this.cipher.decrypt(bytes);
      } catch (error) {
        if (parsesAsJson(stored) || inflates(stored)) {
          throw new DataError(`it is not encrypted, but ${this.setting('CIPHER_KEY')} is set: it was written without encryption`);
        }
        throw error;
      }
    }
    if (this.compressor) {
      try {
        bytes = this.compressor.decompress(bytes);
      } catch {
        if (parsesAsJson(bytes)) {
          throw new DataError(`it is not compressed, but ${this.setting('COMPRESSOR')} is set: it was written without compression`);
        }
        throw new DataError(`it cannot be decompressed${this.cipher ? '' : this.mayBeEncrypted()}`);
      }
    }
    let state: unknown;
    try {
      state = this.transcoder.decode(bytes);
    } catch (error) {
      if (!this.compressor && inflates(bytes)) {
        throw new DataError(`it is compressed: set ${this.setting('COMPRESSOR')}=zlib to read it`);
      }
      if (!this.cipher && !parsesAsJson(bytes)) throw new DataError(`it is not JSON${this.mayBeEncrypted()}`);
      throw error;
    }
    if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new DataError('its state is not an object');
    return state as StateObject;
  }

  private mayBeEncrypted(): string {
    return `: it may be encrypted (${this.setting('CIPHER_KEY')} is not set), or it is corrupt`;
  }

  /** A setting's name, with the application's own form beside it. */
  private setting(key: string): string {
    return this.applicationName === undefined ? key : `${key} (or ${this.applicationName.toUpperCase()}_${key})`;
  }
}

/** Whether a Date was made draftable for immer (by `immerable` on it or on Date): never, in practice. */
function isMarkedImmerable(date: Date): boolean {
  return Boolean((date as unknown as Record<symbol, unknown>)[IMMERABLE] || (Date as unknown as Record<symbol, unknown>)[IMMERABLE]);
}

/**
 * immer's `freeze(value, true)`, with the values JSON is made of done here: plain objects and
 * arrays are frozen and walked; anything else (Map, Set, Date, class instances, drafts) is handed
 * to immer, which decides, as it always did, whether and how to freeze it.
 */
function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  // immer leaves a Date as it is (it is not draftable), as every event's timestamp.
  if (value instanceof Date && !isMarkedImmerable(value)) return;
  const proto = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== Array.prototype && proto !== null) || isImmerDraft(value)) {
    immerFreeze(value, true);
    return;
  }
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
}
