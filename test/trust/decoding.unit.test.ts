// Decoding never lets stored data change a prototype or set anything but plain data fields, and
// the errors name the record (application, topic, originator, version, notification), never its
// content; missing or unneeded CIPHER_KEY and COMPRESSOR settings are named.
import { deflateSync } from 'node:zlib';
import {
  AesGcmCipher,
  Aggregate,
  AggregateCreated,
  AggregateEvent,
  DataError,
  deepClone,
  generateCipherKey,
  JSONTranscoder,
  Mapper,
  Notification,
  register,
  Snapshot,
  StateFieldError,
  StoredEvent,
  ZlibCompressor,
} from '../../src';
import { World } from '../seed-example';

class Gauge extends Aggregate {
  level = 0;

  get doubled(): number {
    return this.level * 2;
  }

  raise(by: number): void {
    this.triggerEvent(Gauge.Raised, { by });
  }

  static Created = class Created extends AggregateCreated {};

  static Raised = class Raised extends AggregateEvent<Gauge> {
    declare readonly by: number;

    apply(gauge: Gauge): void {
      gauge.level += this.by;
    }
  };
}
// An accessor of the event class (defined outside the class body, so that its type has no such attribute).
Object.defineProperty(Gauge.Raised.prototype, 'twice', { get(this: { by: number }) { return this.by * 2; } });
register(Gauge, World);

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
/** A notification of World.SomethingHappened whose state is `state` (as JSON text). */
const notification = (state: string | Uint8Array, topic = 'World.SomethingHappened'): Notification => ({
  id: 17,
  pipelineId: 0,
  originatorId: 'world-1',
  originatorVersion: 3,
  topic,
  state: typeof state === 'string' ? Buffer.from(state) : state,
});
const TIMESTAMP = '"timestamp":"2026-01-01T00:00:00.000Z"';

function decodeError(mapper: Mapper, stored: StoredEvent): Error {
  try {
    mapper.toDomainEvent(stored);
  } catch (error) {
    return error as Error;
  }
  throw new Error('decoded, but should not have');
}

describe('decoding stored events safely', () => {
  const mapper = new Mapper({ applicationName: 'WorldsApplication' });

  it('refuses a state holding __proto__: the event keeps its prototype, and the error names the record', () => {
    const error = decodeError(mapper, notification(`{${TIMESTAMP},"what":"dinosaurs","__proto__":{"polluted":true}}`));
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toBe(
      "cannot decode stored event 'World.SomethingHappened' v3 of world-1 (notification 17) of WorldsApplication: " +
        "its state sets '__proto__', which is not a plain data field of SomethingHappened",
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['constructor', '"constructor":"Object"'],
    ['prototype', '"prototype":{}'],
    ['a method', '"mutate":"not a function"'],
    ['an accessor', '"twice":4'],
    ['a method of Object', '"toString":"x"'],
  ])('refuses a state that names %s of the event class', (_what, field) => {
    const topic = field.includes('twice') ? 'Gauge.Raised' : 'World.SomethingHappened';
    const error = decodeError(mapper, notification(`{${TIMESTAMP},"by":2,"what":"x",${field}}`, topic));
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(/its state sets '(constructor|prototype|mutate|twice|toString)', which is not a plain data field/);
  });

  it('refuses a topic that names an aggregate class, not an event class', () => {
    const error = decodeError(mapper, notification(`{${TIMESTAMP}}`, 'World'));
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(/\(notification 17\) of WorldsApplication: its topic names World, which is not an event class/);
  });

  it('refuses a created event whose originator topic names an event class', () => {
    const stored = notification(`{${TIMESTAMP},"originatorTopic":"World.SomethingHappened"}`, 'World.Created');
    const created = mapper.toDomainEvent<AggregateCreated>({ ...stored, originatorVersion: 1 });
    expect(() => created.mutate(undefined)).toThrow("topic 'World.SomethingHappened' names SomethingHappened, which is not an aggregate class");
  });

  it('still decodes own "__proto__" keys inside nested data as plain data, and copies them as data', () => {
    const stored = notification(`{${TIMESTAMP},"what":{"__proto__":{"polluted":true},"kept":1}}`);
    const event = mapper.toDomainEvent<InstanceType<typeof World.SomethingHappened>>(stored);
    const what = event.what as unknown as Record<string, unknown>;
    expect(Object.getPrototypeOf(what)).toBe(Object.prototype);
    expect(Object.getOwnPropertyNames(what).sort()).toEqual(['__proto__', 'kept']);
    expect(what.polluted).toBeUndefined();
    const copy = deepClone({ ...what }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.getOwnPropertyNames(copy).sort()).toEqual(['__proto__', 'kept']);
  });

  it('refuses an upcaster result and a snapshot state that would set a prototype', () => {
    class Meter extends Aggregate {
      static override classVersion = 2;
      static override upcasters = { 1: (state: Record<string, unknown>) => ({ ...state }) };
      count = 0;
    }
    register(Meter);
    const snapshot = mapper.toDomainEvent<Snapshot>({
      originatorId: 'meter-1',
      originatorVersion: 4,
      topic: Snapshot.topic as string,
      state: Buffer.from(`{${TIMESTAMP},"topic":"Meter","state":{"id":"meter-1","version":4,"__proto__":{"count":99}}}`),
    });
    expect(() => snapshot.mutate()).toThrow(StateFieldError);
    expect(() => snapshot.mutate()).toThrow("Meter cannot take a field named '__proto__'");
    const methodSnapshot = mapper.toDomainEvent<Snapshot>({
      originatorId: 'gauge-1',
      originatorVersion: 2,
      topic: Snapshot.topic as string,
      state: json({ timestamp: '2026-01-01T00:00:00.000Z', topic: 'Gauge', state: { id: 'gauge-1', version: 2, doubled: 7 } }),
    });
    expect(() => methodSnapshot.mutate()).toThrow("Gauge cannot take a field named 'doubled'");
  });

  it('refuses event attributes that would set a prototype or hide a method, when events are made', () => {
    const gauge = Gauge._create(Gauge.Created, {});
    const attributes = JSON.parse('{"by":1,"__proto__":{"polluted":true}}');
    expect(() => (gauge as unknown as { triggerEvent: Function }).triggerEvent(Gauge.Raised, attributes)).toThrow(StateFieldError);
    expect(() => (gauge as unknown as { triggerEvent: Function }).triggerEvent(Gauge.Raised, { by: 1, apply: 'x' })).toThrow(
      "Raised cannot take a field named 'apply'",
    );
    gauge.raise(2);
    expect(gauge.level).toBe(2);
  });

  it('refuses custom-type data holding __proto__, and a decode that returns another type', () => {
    class Money {
      constructor(
        readonly cents: number,
        readonly currency: string,
      ) {}
    }
    const transcoder = new JSONTranscoder([
      { name: 'Money', type: Money, encode: (m: Money) => ({ cents: m.cents, currency: m.currency }), decode: (d: any) => Object.assign(new Money(0, ''), d) },
      { name: 'Fake', type: Money, encode: () => 1, decode: () => ({ cents: 1 }) },
    ]);
    const money = new Mapper({ transcoder, applicationName: 'Shop' });
    const error = decodeError(money, notification(`{${TIMESTAMP},"what":{"$type":"Money","v":{"cents":1,"__proto__":{"evil":true}}}}`));
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(/of Shop: its state holds a value of type Money whose data has a '__proto__' key/);
    const fake = decodeError(money, notification(`{${TIMESTAMP},"what":{"$type":"Fake","v":1}}`));
    expect(fake.message).toMatch(/the transcoding Fake decoded its data to something that is not a Money/);
  });
});

describe('errors about undecodable records name the record, never its content', () => {
  const mapper = new Mapper({ applicationName: 'WorldsApplication' });

  it.each([
    ['garbage bytes', 'SECRET-GARBAGE-7f3a not json at all'],
    ['broken JSON', `{${TIMESTAMP},"what":"SECRET-GARBAGE-7f3a"`],
    ['a malformed bigint', `{${TIMESTAMP},"what":{"$type":"BigInt","v":"SECRET-GARBAGE-7f3a"}}`],
    ['an invalid class version', `{${TIMESTAMP},"$v":"SECRET-GARBAGE-7f3a"}`],
  ])('%s', (_what, state) => {
    const error = decodeError(mapper, notification(state));
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(/^cannot decode stored event 'World.SomethingHappened' v3 of world-1 \(notification 17\) of WorldsApplication: /);
    expect(error.message).not.toContain('SECRET');
    expect(JSON.stringify(error)).not.toContain('SECRET');
    expect(String((error as { cause?: unknown }).cause ?? '')).not.toContain('SECRET');
  });
});

describe('errors name a missing or unneeded CIPHER_KEY or COMPRESSOR', () => {
  const world = World.create();
  world.makeItSo('dinosaurs');
  const [, happened] = world.collectEvents();
  const key = generateCipherKey();
  const written = (options: { cipher?: boolean; compressor?: boolean }) =>
    new Mapper({ cipher: options.cipher ? new AesGcmCipher(key) : undefined, compressor: options.compressor ? new ZlibCompressor() : undefined }).toStoredEvent(happened);
  const reader = (options: { cipher?: boolean; compressor?: boolean }) =>
    new Mapper({
      applicationName: 'Worlds',
      cipher: options.cipher ? new AesGcmCipher(key) : undefined,
      compressor: options.compressor ? new ZlibCompressor() : undefined,
    });

  it('encrypted data read without CIPHER_KEY', () => {
    expect(decodeError(reader({}), written({ cipher: true })).message).toMatch(
      /: it is not JSON: it may be encrypted \(CIPHER_KEY \(or WORLDS_CIPHER_KEY\) is not set\), or it is corrupt$/,
    );
    expect(decodeError(reader({ compressor: true }), written({ cipher: true, compressor: true })).message).toMatch(
      /: it cannot be decompressed: it may be encrypted \(CIPHER_KEY \(or WORLDS_CIPHER_KEY\) is not set\), or it is corrupt$/,
    );
  });

  it('compressed data read without COMPRESSOR', () => {
    expect(decodeError(reader({}), written({ compressor: true })).message).toMatch(/: it is compressed: set COMPRESSOR \(or WORLDS_COMPRESSOR\)=zlib to read it$/);
    expect(decodeError(reader({ cipher: true }), written({ cipher: true, compressor: true })).message).toMatch(/: it is compressed: set COMPRESSOR/);
  });

  it('plain data read with CIPHER_KEY or COMPRESSOR set', () => {
    expect(decodeError(reader({ cipher: true }), written({})).message).toMatch(
      /: it is not encrypted, but CIPHER_KEY \(or WORLDS_CIPHER_KEY\) is set: it was written without encryption$/,
    );
    expect(decodeError(reader({ compressor: true }), written({})).message).toMatch(
      /: it is not compressed, but COMPRESSOR \(or WORLDS_COMPRESSOR\) is set: it was written without compression$/,
    );
  });

  it('still reads what was written with the same settings', () => {
    for (const options of [{}, { cipher: true }, { compressor: true }, { cipher: true, compressor: true }]) {
      expect(reader(options).toDomainEvent(written(options))).toEqual(happened);
    }
    expect(deflateSync(Buffer.from('{}'))[0]).toBe(0x78); // what "it is compressed" recognises
  });
});
