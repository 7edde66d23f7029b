import { freeze } from 'immer';
import {
  CLASS_VERSION_KEY,
  classVersionOf,
  DomainEvent,
  EventClass,
  resolveTopic,
  Snapshot,
  StateObject,
  topicOf,
  TopicError,
  upcast,
} from '../domain';
import { AesGcmCipher } from './cipher';
import { ZlibCompressor } from './compressor';
import { DataError } from './errors';
import type { StoredEvent } from './records';
import { JSONTranscoder, Transcoder } from './transcoder';

export interface MapperOptions {
  transcoder?: Transcoder;
  compressor?: ZlibCompressor;
  cipher?: AesGcmCipher;
}

/**
 * Domain event ⇄ stored event. The state is the event's own fields (without the originator id and
 * version, which the stored event holds), transcoded, then compressed, then encrypted.
 */
export class Mapper {
  readonly transcoder: Transcoder;
  readonly compressor?: ZlibCompressor;
  readonly cipher?: AesGcmCipher;

  constructor(options: MapperOptions = {}) {
    this.transcoder = options.transcoder ?? new JSONTranscoder();
    this.compressor = options.compressor;
    this.cipher = options.cipher;
  }

  toStoredEvent(event: DomainEvent): StoredEvent {
    const cls = event.constructor as EventClass;
    const topic = topicOf(cls);
    const { originatorId, originatorVersion, ...state } = event as DomainEvent & StateObject;
    const version = classVersionOf(cls as EventClass & { name: string });
    if (version > 1) state[CLASS_VERSION_KEY] = version;
    let bytes: Uint8Array = this.transcoder.encode(state);
    if (this.compressor) bytes = this.compressor.compress(bytes);
    if (this.cipher) bytes = this.cipher.encrypt(bytes);
    return { originatorId, originatorVersion, topic, state: bytes };
  }

  toDomainEvent<E extends DomainEvent = DomainEvent>(stored: StoredEvent): E {
    const cls = resolveTopic(stored.topic) as EventClass & { name: string };
    let state: StateObject;
    try {
      let bytes = stored.state;
      if (this.cipher) bytes = this.cipher.decrypt(bytes);
      if (this.compressor) bytes = this.compressor.decompress(bytes);
      state = this.transcoder.decode(bytes) as StateObject;
      if (state === null || typeof state !== 'object' || Array.isArray(state)) {
        throw new DataError('state is not an object');
      }
      // A snapshot's inner state is upcast by the aggregate class when the snapshot is used.
      if (cls !== Snapshot) state = upcast(cls, state);
    } catch (error) {
      if (error instanceof TopicError) throw error;
      throw new DataError(
        `cannot decode stored event '${stored.topic}' v${stored.originatorVersion} of ${stored.originatorId}: ` +
          (error as Error).message,
      );
    }
    const event = Object.create(cls.prototype) as E;
    Object.assign(event, state);
    Object.assign(event, { originatorId: stored.originatorId, originatorVersion: stored.originatorVersion });
    // A snapshot's state becomes a live aggregate's state, so it is frozen at the top only.
    return cls === Snapshot ? Object.freeze(event) : freeze(event, true);
  }
}
