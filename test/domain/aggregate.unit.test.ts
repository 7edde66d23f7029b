import {
  Aggregate,
  AggregateCreated,
  AggregateEvent,
  OriginatorError,
  register,
  registerTopic,
  resolveTopic,
  topicOf,
  TopicError,
} from '../../src';
import { aggregateSpecification, event } from '../../src/testing';
import { World } from '../seed-example';

describe('Aggregate', () => {
  it('is created by its created event, with id, version 1 and timestamps, and keeps the event pending', () => {
    const world = World.create();
    expect(typeof world.id).toBe('string');
    expect(world.version).toBe(1);
    expect(world.createdOn).toBeInstanceOf(Date);
    expect(world.modifiedOn).toEqual(world.createdOn);
    expect(world.history).toEqual([]);
    const events = world.collectEvents();
    expect(events.length).toBe(1);
    expect(events[0]).toBeInstanceOf(World.Created);
    expect(events[0].originatorId).toBe(world.id);
    expect(events[0].originatorVersion).toBe(1);
    expect(world.collectEvents()).toEqual([]);
  });

  it('applies triggered events at once and collects them in order', () => {
    const world = World.create();
    world.makeItSo('dinosaurs');
    world.makeItSo('trucks');
    expect(world.history).toEqual(['dinosaurs', 'trucks']);
    expect(world.version).toBe(3);
    const events = world.collectEvents();
    expect(events.map((e) => e.constructor)).toEqual([World.Created, World.SomethingHappened, World.SomethingHappened]);
    expect(events.map((e) => e.originatorVersion)).toEqual([1, 2, 3]);
    expect((events[2] as InstanceType<typeof World.SomethingHappened>).what).toBe('trucks');
    expect(world.modifiedOn).toBe(events[2].timestamp);
  });

  it('records what happens in a world after the history it has (given/when/then)', () => {
    const { aggregate } = aggregateSpecification(World)
      .given(World.Created, {})
      .given(World.SomethingHappened, { what: 'dinosaurs' })
      .when((world) => world.makeItSo('trucks'))
      .thenEvents(event(World.SomethingHappened, { what: 'trucks' }, { originatorVersion: 3 }));
    expect(aggregate.history).toEqual(['dinosaurs', 'trucks']);
  });

  it('makes events immutable, deeply', () => {
    class Basket extends Aggregate {
      items: string[] = [];
      static Created = class Created extends AggregateCreated {};
      static Filled = class Filled extends AggregateEvent<Basket> {
        declare readonly items: string[];
        apply(basket: Basket): void {
          basket.items.push(...this.items);
        }
      };
      fill(items: string[]): void {
        this.triggerEvent(Basket.Filled, { items });
      }
    }
    const basket = Basket._create(Basket.Created, {});
    basket.fill(['apple']);
    const [created, filled] = basket.collectEvents() as [AggregateCreated, InstanceType<typeof Basket.Filled>];
    expect(Object.isFrozen(created)).toBe(true);
    expect(() => {
      (filled as { what?: string }).what = 'changed';
    }).toThrow(TypeError);
    expect(() => filled.items.push('pear')).toThrow(TypeError);
    expect(basket.items).toEqual(['apple']);
  });

  it('checks the attributes of triggered events at compile time', () => {
    const world = World.create();
    const check = (w: World) => {
      // @ts-expect-error `what` must be a string
      w['triggerEvent'](World.SomethingHappened, { what: 42 });
      // @ts-expect-error `what` is required
      w['triggerEvent'](World.SomethingHappened, {});
      // @ts-expect-error unknown attribute
      w['triggerEvent'](World.SomethingHappened, { what: 'x', extra: 1 });
    };
    expect(typeof check).toBe('function');
    expect(world.version).toBe(1);
  });

  it('refuses an event that does not follow the aggregate’s version', () => {
    const world = World.create();
    const event = new World.SomethingHappened({ originatorId: world.id, originatorVersion: 5, timestamp: new Date(), what: 'x' });
    expect(() => event.mutate(world)).toThrow(OriginatorError);
    const other = new World.SomethingHappened({ originatorId: 'other', originatorVersion: 2, timestamp: new Date(), what: 'x' });
    expect(() => other.mutate(world)).toThrow(/cannot be applied to aggregate/);
  });

  it('lets created events carry initial state that their apply sets', () => {
    class Account extends Aggregate {
      owner = '';
      static Opened = class Opened extends AggregateCreated<Account> {
        declare readonly owner: string;
        apply(account: Account): void {
          account.owner = this.owner;
        }
      };
      static open(owner: string): Account {
        return Account._create(Account.Opened, { owner });
      }
    }
    const { aggregate: account } = aggregateSpecification(Account)
      .when(() => Account.open('alice'))
      .thenEvents(event(Account.Opened, { owner: 'alice' }, { originatorVersion: 1 }));
    expect(account.owner).toBe('alice');
    expect(account.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('topics', () => {
  it('names nested event classes after their aggregate, stably', () => {
    register(World);
    expect(topicOf(World)).toBe('World');
    expect(topicOf(World.Created)).toBe('World.Created');
    expect(topicOf(World.SomethingHappened)).toBe('World.SomethingHappened');
    expect(resolveTopic('World.SomethingHappened')).toBe(World.SomethingHappened);
  });

  it('refuses two different classes claiming one topic, at registration', () => {
    const First = class Thing extends Aggregate {};
    const Second = class Thing extends Aggregate {};
    register(First);
    expect(() => register(Second)).toThrow(TopicError);
    expect(() => register(Second)).toThrow(/topic 'Thing' is claimed by two different classes/);
  });

  it('names an unknown topic in the error', () => {
    expect(() => resolveTopic('Nowhere.Nothing')).toThrow(TopicError);
    expect(() => resolveTopic('Nowhere.Nothing')).toThrow(/unknown topic 'Nowhere.Nothing'/);
  });

  it('lets a renamed class keep its old topic', () => {
    class Planet extends Aggregate {
      static Created = class Created extends AggregateCreated {};
      static ThingHappened = class ThingHappened extends AggregateEvent<Planet> {
        static override topic = 'Planet.SomethingHappened';
      };
    }
    register(Planet);
    expect(topicOf(Planet.ThingHappened)).toBe('Planet.SomethingHappened');
    expect(resolveTopic('Planet.SomethingHappened')).toBe(Planet.ThingHappened);
  });

  it('refuses to register one class under two topics', () => {
    class Lonely extends AggregateEvent {}
    registerTopic('Lonely.V1', Lonely);
    expect(() => registerTopic('Lonely.V2', Lonely)).toThrow(/already registered under topic 'Lonely.V1'/);
  });
});
