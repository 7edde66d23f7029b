import {
  AesGcmCipher,
  Aggregate,
  AggregateCreated,
  AggregateEvent,
  DataError,
  generateCipherKey,
  JSONTranscoder,
  Mapper,
  register,
  Snapshot,
  StoredEvent,
  TopicError,
  ZlibCompressor,
} from '../../src';
import { World } from '../seed-example';

describe('Mapper', () => {
  const world = World.create();
  world.makeItSo('dinosaurs');
  const [created, happened] = world.collectEvents();

  it('maps a domain event to a stored event and back', () => {
    const mapper = new Mapper();
    const stored = mapper.toStoredEvent(happened);
    expect(stored.originatorId).toBe(world.id);
    expect(stored.originatorVersion).toBe(2);
    expect(stored.topic).toBe('World.SomethingHappened');
    const state = JSON.parse(Buffer.from(stored.state).toString());
    expect(state.what).toBe('dinosaurs');
    expect(state.originatorId).toBeUndefined();
    const event = mapper.toDomainEvent(stored);
    expect(event).toBeInstanceOf(World.SomethingHappened);
    expect(event).toEqual(happened);
    expect(event.timestamp).toBeInstanceOf(Date);
    expect(Object.isFrozen(event)).toBe(true);
    const again = mapper.toDomainEvent(mapper.toStoredEvent(created));
    expect(again).toBeInstanceOf(World.Created);
    expect((again as AggregateCreated).originatorTopic).toBe('World');
  });

  it('compresses and encrypts when configured, and reads back', () => {
    const cipher = new AesGcmCipher(generateCipherKey());
    const mapper = new Mapper({ transcoder: new JSONTranscoder(), compressor: new ZlibCompressor(), cipher });
    const stored = mapper.toStoredEvent(happened);
    expect(Buffer.from(stored.state).includes(Buffer.from('dinosaurs'))).toBe(false);
    expect(mapper.toDomainEvent(stored)).toEqual(happened);
    // A random nonce per record: the same event never encrypts the same way twice.
    expect(Buffer.from(mapper.toStoredEvent(happened).state).equals(Buffer.from(stored.state))).toBe(false);
  });

  it('gives a clear error for a wrong key, not garbage', () => {
    const writer = new Mapper({ cipher: new AesGcmCipher(generateCipherKey()) });
    const reader = new Mapper({ cipher: new AesGcmCipher(generateCipherKey()) });
    const stored = writer.toStoredEvent(happened);
    expect(() => reader.toDomainEvent(stored)).toThrow(DataError);
    expect(() => reader.toDomainEvent(stored)).toThrow(/wrong CIPHER_KEY/);
  });

  it('refuses a malformed cipher key, naming the setting', () => {
    expect(() => new AesGcmCipher('too-short')).toThrow(/CIPHER_KEY must be 32 bytes/);
    expect(() => new AesGcmCipher('x', 'WORLDS_CIPHER_KEY')).toThrow(/WORLDS_CIPHER_KEY/);
  });

  it('names an unknown topic when reading', () => {
    const stored: StoredEvent = { originatorId: 'x', originatorVersion: 1, topic: 'Gone.Away', state: Buffer.from('{}') };
    expect(() => new Mapper().toDomainEvent(stored)).toThrow(TopicError);
    expect(() => new Mapper().toDomainEvent(stored)).toThrow(/unknown topic 'Gone.Away'/);
  });

  it('names the record when its state is malformed', () => {
    const stored: StoredEvent = {
      originatorId: 'w1',
      originatorVersion: 7,
      topic: 'World.SomethingHappened',
      state: Buffer.from('{oops'),
    };
    expect(() => new Mapper().toDomainEvent(stored)).toThrow(/World.SomethingHappened' v7 of w1/);
  });
});

describe('upcasting', () => {
  // The stored form of an event written when its class had no currency field (version 1).
  const storedV1: StoredEvent = {
    originatorId: 'acc-1',
    originatorVersion: 2,
    topic: 'Account.Deposited',
    state: Buffer.from(JSON.stringify({ timestamp: { $type: 'Date', v: '2020-01-01T00:00:00.000Z' }, amount: 5 })),
  };

  class Account extends Aggregate {
    static override classVersion = 2;
    static override upcasters = { 1: (state: Record<string, unknown>) => ({ ...state, balances: { EUR: state.balance } }) };
    balances: Record<string, number> = {};
    static Opened = class Opened extends AggregateCreated {};
    static Deposited = class Deposited extends AggregateEvent<Account> {
      static override classVersion = 3;
      static override upcasters = {
        1: (state: Record<string, unknown>) => ({ ...state, currency: 'EUR' }),
        2: (state: Record<string, unknown>) => ({ ...state, amount: BigInt(state.amount as number) }),
      };
      declare readonly amount: bigint;
      declare readonly currency: string;
    };
  }
  register(Account);
  const mapper = new Mapper();

  it('brings a stored older event up to the class version, step by step', () => {
    const event = mapper.toDomainEvent(storedV1) as InstanceType<typeof Account.Deposited>;
    expect(event).toBeInstanceOf(Account.Deposited);
    expect(event.currency).toBe('EUR');
    expect(event.amount).toBe(5n);
    expect(event.timestamp).toEqual(new Date('2020-01-01T00:00:00.000Z'));
  });

  it('records the class version with new events and does not upcast them', () => {
    const event = new Account.Deposited({
      originatorId: 'acc-2',
      originatorVersion: 2,
      timestamp: new Date(),
      amount: 7n,
      currency: 'USD',
    });
    const stored = mapper.toStoredEvent(event);
    expect(JSON.parse(Buffer.from(stored.state).toString()).$v).toBe(3);
    const read = mapper.toDomainEvent(stored) as InstanceType<typeof Account.Deposited>;
    expect(read.currency).toBe('USD');
    expect(read.amount).toBe(7n);
    expect('$v' in read).toBe(false);
  });

  it('upcasts snapshots by the aggregate class', () => {
    const storedSnapshot: StoredEvent = {
      originatorId: 'acc-3',
      originatorVersion: 4,
      topic: Snapshot.topic!,
      state: Buffer.from(
        JSON.stringify({
          timestamp: { $type: 'Date', v: '2020-01-01T00:00:00.000Z' },
          topic: 'Account',
          state: { id: 'acc-3', version: 4, balance: 12 },
        }),
      ),
    };
    const snapshot = mapper.toDomainEvent(storedSnapshot) as Snapshot;
    const account = snapshot.mutate<Account>();
    expect(account).toBeInstanceOf(Account);
    expect(account.balances).toEqual({ EUR: 12 });
    expect(account.version).toBe(4);
  });

  it('refuses state from a newer class version than the code knows', () => {
    const future = { ...storedV1, state: Buffer.from(JSON.stringify({ $v: 9, amount: 1 })) };
    expect(() => mapper.toDomainEvent(future)).toThrow(/class version 9, newer than this code's 3/);
  });

  it('refuses, at registration, a class version without its upcasters', () => {
    class Broken extends Aggregate {
      static override classVersion = 2;
    }
    expect(() => register(Broken)).toThrow(/no upcaster from version 1/);
  });
});
