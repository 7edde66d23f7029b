// The aggregate cache on its own: least recently used out, copies in and out, never a version
// older than the one it holds, fast-forwarded by events.
import { AggregateCache, type AggregateEvent } from '../../src';
import { World } from '../seed-example';

function worldWith(...things: string[]): World {
  const world = World.create();
  for (const what of things) world.makeItSo(what);
  world.collectEvents();
  return world;
}

describe('AggregateCache', () => {
  it('drops the least recently used aggregate once it holds more than maxSize; a get makes one recent again', () => {
    const cache = new AggregateCache(2);
    const [a, b, c] = [worldWith('a'), worldWith('b'), worldWith('c')];
    cache.put(a);
    cache.put(b);
    expect(cache.get<World>(a.id)?.history).toEqual(['a']); // a is now the most recent
    cache.put(c); // b goes
    expect(cache.size).toBe(2);
    expect(cache.get(b.id)).toBeUndefined();
    expect(cache.get<World>(a.id)?.history).toEqual(['a']);
    expect(cache.get<World>(c.id)?.history).toEqual(['c']);
  });

  it('keeps copies and hands out copies', () => {
    const cache = new AggregateCache(10);
    const world = worldWith('kept');
    cache.put(world);
    world.history.push('changed after put');
    const first = cache.get<World>(world.id)!;
    first.history.push('changed after get');
    expect(cache.get<World>(world.id)!.history).toEqual(['kept']);
    expect(first).not.toBe(cache.get(world.id));
  });

  it('never replaces a newer version with an older one', () => {
    const cache = new AggregateCache(10);
    const newer = worldWith('one', 'two');
    cache.put(newer);
    const older = cache.get<World>(newer.id)!;
    older.history.pop();
    (older as { version: number }).version = 2;
    cache.put(older);
    expect(cache.get<World>(newer.id)).toMatchObject({ version: 3, history: ['one', 'two'] });
  });

  it('fast-forwards the cached copy by the events that took the aggregate on, and refreshes its place', () => {
    const cache = new AggregateCache(2);
    const world = worldWith('first');
    cache.put(world);
    const other = worldWith('other');
    cache.put(other);
    world.makeItSo('second');
    world.makeItSo('third');
    cache.advance(world, world.collectEvents());
    expect(cache.get<World>(world.id)).toMatchObject({ version: 4, history: ['first', 'second', 'third'] });
    cache.advance(other, []); // nothing new: kept as a copy, and now the most recent
    cache.put(worldWith('third world'));
    expect(cache.get(world.id)).toBeUndefined();
    expect(cache.get(other.id)).toBeDefined();
  });

  it('keeps a new copy when the cached one is not at the version before the events, and forgets one half-applied', () => {
    const cache = new AggregateCache(10);
    const world = worldWith('first');
    cache.put(world);
    world.makeItSo('second');
    world.collectEvents(); // missed by the cache
    world.makeItSo('third');
    cache.advance(world, world.collectEvents());
    expect(cache.get<World>(world.id)!.history).toEqual(['first', 'second', 'third']);

    world.makeItSo('fourth');
    world.collectEvents();
    const unappliable = {
      mutate: () => {
        throw new Error('cannot apply');
      },
    } as unknown as AggregateEvent<World>;
    cache.advance(world, [unappliable]);
    expect(cache.get(world.id)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts on request', () => {
    const cache = new AggregateCache(10);
    const world = worldWith();
    cache.put(world);
    cache.evict(world.id);
    cache.evict('never cached');
    expect(cache.get(world.id)).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
