import { DataError, JSONTranscoder, Transcoding } from '../../src';

class Money {
  constructor(
    readonly amount: bigint,
    readonly currency: string,
  ) {}
}

const moneyTranscoding: Transcoding<Money, [string, string]> = {
  name: 'Money',
  type: Money,
  encode: (money) => [money.amount.toString(), money.currency],
  decode: ([amount, currency]) => new Money(BigInt(amount), currency),
};

describe('JSONTranscoder', () => {
  const transcoder = new JSONTranscoder([moneyTranscoding]);
  const roundTrip = (value: unknown) => transcoder.decode(transcoder.encode(value));

  it('round-trips Date, bigint, Map, Set, bytes, nested objects and arrays', () => {
    const value = {
      when: new Date('2026-11-23T18:45:00.123Z'),
      big: 12345678901234567890n,
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, new Set(['x', 'y'])],
      ]),
      set: new Set([1, 2, 3]),
      bytes: Buffer.from([0, 1, 254, 255]),
      nested: { list: [1, 'two', { three: [new Date(0)] }], empty: {}, nothing: null },
      numbers: [0, -1.5, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity],
      holes: [1, undefined, 3],
      text: 'ünïcødé ✓',
      flag: false,
    };
    const decoded = roundTrip(value) as typeof value;
    expect(decoded).toEqual(value);
    expect(decoded.when).toBeInstanceOf(Date);
    expect(typeof decoded.big).toBe('bigint');
    expect(decoded.map).toBeInstanceOf(Map);
    expect((decoded.map.get(2) as Set<string>).has('y')).toBe(true);
    expect(Object.is(decoded.numbers[3], NaN)).toBe(true);
    expect(decoded.holes).toEqual([1, undefined, 3]);
  });

  it('round-trips registered custom types, also inside collections', () => {
    const value = { price: new Money(1999n, 'EUR'), ledger: new Map([['x', new Money(-5n, 'USD')]]) };
    const decoded = roundTrip(value) as typeof value;
    expect(decoded.price).toBeInstanceOf(Money);
    expect(decoded.price).toEqual(value.price);
    expect(decoded.ledger.get('x')).toEqual(new Money(-5n, 'USD'));
  });

  it('keeps plain objects that happen to use the tag key intact', () => {
    const value = { $type: 'Date', v: 'not a date', nested: { $type: 'Map' } };
    expect(roundTrip(value)).toEqual(value);
  });

  it('refuses values it cannot encode, naming the class', () => {
    class Unregistered {
      x = 1;
    }
    expect(() => transcoder.encode({ thing: new Unregistered() })).toThrow(DataError);
    expect(() => transcoder.encode({ thing: new Unregistered() })).toThrow(/instance of Unregistered/);
    expect(() => transcoder.encode({ f: () => 1 })).toThrow(/cannot encode a function/);
  });

  it('refuses stored data of an unknown custom type, naming it', () => {
    const other = new JSONTranscoder();
    const bytes = transcoder.encode({ price: new Money(1n, 'EUR') });
    expect(() => other.decode(bytes)).toThrow(/type 'Money' but no transcoding is registered/);
  });

  it('refuses malformed bytes with DataError', () => {
    expect(() => transcoder.decode(Buffer.from('{not json'))).toThrow(DataError);
  });

  it('refuses transcodings that reuse a built-in name', () => {
    expect(() => new JSONTranscoder([{ ...moneyTranscoding, name: 'Date' }])).toThrow(/reserved/);
  });
});
