import { v4 as uuid4 } from 'uuid';
import {
  AddedAttributes,
  AggregateCreated,
  AggregateEvent,
  DomainEvent,
  EventClass,
  makeEvent,
} from './events';
import { TopicError } from './errors';
import { loadedExportedFunctions, loadedModuleCount } from './loaded-exports';
import { checkUpcasters, Upcaster } from './upcasting';
import { ownTopic, registeredTopic, registerTopic, setTopicDiscovery } from './topics';

/** The attributes a command passes to `triggerEvent` for event class `E`. */
export type EventAttributes<E extends AggregateEvent<any>> = AddedAttributes<E, AggregateCreated<any>>;

type AttributesArgument<E extends AggregateEvent<any>> = {} extends EventAttributes<E>
  ? [attributes?: EventAttributes<E>]
  : [attributes: EventAttributes<E>];

export type AggregateClass<A extends Aggregate = Aggregate> = (new () => A) & {
  topic?: string;
  classVersion?: number;
  upcasters?: Readonly<Record<number, Upcaster>>;
};

/**
 * An aggregate whose state is the sequence of its domain events. Commands call `triggerEvent`,
 * which applies the event at once and keeps it pending until the application saves the aggregate.
 * Subclasses take no constructor arguments: a created event's `apply` sets the initial state.
 */
export abstract class Aggregate {
  declare readonly id: string;
  declare readonly version: number;
  declare readonly createdOn: Date;
  declare readonly modifiedOn: Date;

  static topic?: string;
  /** Version of this class's state shape, for snapshots; older snapshots are upcast on read. */
  static classVersion?: number;
  static upcasters?: Readonly<Record<number, Upcaster>>;

  #pendingEvents: AggregateEvent<any>[] = [];

  /** Makes a new aggregate of this class by its created event (`id` defaults to a random UUID). */
  static _create<A extends Aggregate, E extends AggregateCreated<any>>(
    this: AggregateClass<A>,
    eventClass: EventClass<E>,
    attributes: { id?: string } & EventAttributes<E>,
  ): A {
    const aggregateTopic = registerAggregate(this);
    const { id = uuid4(), ...rest } = attributes as { id?: string };
    const timestamp = new Date();
    const fields = { originatorId: id, originatorVersion: 1, timestamp, originatorTopic: aggregateTopic, ...rest };
    fields.originatorId = id;
    fields.originatorVersion = 1;
    fields.timestamp = timestamp;
    fields.originatorTopic = aggregateTopic;
    const event = makeEvent(eventClass, fields);
    const aggregate = event.mutate(undefined) as A;
    aggregate.#pendingEvents.push(event);
    return aggregate;
  }

  /** Makes the next event of this aggregate, applies it, and keeps it for saving. */
  protected triggerEvent<E extends AggregateEvent<any>>(eventClass: EventClass<E>, ...attributes: AttributesArgument<E>): void;
  protected triggerEvent(eventClass: EventClass<AggregateEvent<any>>, attributes?: object): void {
    registerAggregate(this.constructor as AggregateClass);
    const originatorVersion = this.version + 1;
    const timestamp = new Date();
    // The common fields first, then the attributes, then the common fields again so that no
    // attribute can override them (this order keeps the object's shape fast to build).
    const fields = { originatorId: this.id, originatorVersion, timestamp, ...attributes };
    fields.originatorId = this.id;
    fields.originatorVersion = originatorVersion;
    fields.timestamp = timestamp;
    const event = makeEvent(eventClass, fields);
    event.mutate(this);
    this.#pendingEvents.push(event);
  }

  /** The events triggered since the last collection; the aggregate forgets them. */
  collectEvents(): AggregateEvent<any>[] {
    const events = this.#pendingEvents;
    this.#pendingEvents = [];
    return events;
  }

  get pendingEventCount(): number {
    return this.#pendingEvents.length;
  }
}

function isEventClass(value: unknown): value is EventClass {
  return typeof value === 'function' && value.prototype instanceof DomainEvent;
}

function isAggregateClass(value: unknown): value is AggregateClass<any> {
  return typeof value === 'function' && value.prototype instanceof Aggregate;
}

/** The event classes that are static properties of an aggregate class whose topic is `topic`, with their topics. */
function* nestedEventClasses(cls: AggregateClass<any>, topic: string): Generator<[topic: string, cls: EventClass]> {
  for (const key of Object.getOwnPropertyNames(cls)) {
    const value = (cls as unknown as Record<string, unknown>)[key];
    if (isEventClass(value)) yield [ownTopic(value) ?? `${topic}.${key}`, value];
  }
}

/**
 * Registers an aggregate class (and the classes it extends) under its topic, and every event class
 * that is a static property of it under `AggregateTopic.PropertyName`. Returns the aggregate's topic.
 */
export function registerAggregate(cls: AggregateClass<any>): string {
  const known = registeredTopic(cls);
  if (known !== undefined) return known;
  const parent = Object.getPrototypeOf(cls) as AggregateClass<any>;
  if ((parent as unknown) !== Aggregate && parent.prototype instanceof Aggregate) registerAggregate(parent);
  checkUpcasters(cls as AggregateClass & { name: string });
  const topic = ownTopic(cls) ?? cls.name;
  if (!topic) throw new TypeError('an anonymous aggregate class needs a static topic');
  for (const [eventTopic, value] of nestedEventClasses(cls, topic)) {
    if (registeredTopic(value) === undefined) {
      checkUpcasters(value as EventClass & { name: string });
      registerTopic(eventTopic, value, 'event');
    }
  }
  registerTopic(topic, cls, 'aggregate');
  return topic;
}

/** Registers an event class that is not a static property of an aggregate, under its own topic or name. */
export function registerEvent(cls: EventClass<any>): string {
  const known = registeredTopic(cls);
  if (known !== undefined) return known;
  checkUpcasters(cls as EventClass & { name: string });
  const topic = ownTopic(cls) ?? cls.name;
  if (!topic) throw new TypeError('an anonymous event class needs a static topic');
  registerTopic(topic, cls, 'event');
  return topic;
}

/**
 * Registers aggregate classes (with their nested events) and stand-alone event classes, so that a
 * process that reads stored events before using these classes can still decode them.
 */
export function register(...classes: Array<AggregateClass<any> | EventClass<any>>): void {
  for (const cls of classes) {
    if (cls.prototype instanceof Aggregate) registerAggregate(cls as AggregateClass<any>);
    else if (cls.prototype instanceof DomainEvent) registerEvent(cls as EventClass<any>);
    else throw new TypeError(`register() takes aggregate and event classes, got ${String((cls as { name?: string }).name ?? cls)}`);
  }
}

/** The topic of a stored class, registering it first if it has not been used yet. */
export function topicOf(cls: AggregateClass<any> | EventClass<any>): string {
  return registeredTopic(cls) ?? (cls.prototype instanceof Aggregate
    ? registerAggregate(cls as AggregateClass<any>)
    : registerEvent(cls as EventClass<any>));
}

/** Topics looked for among loaded modules in vain, with how many modules were loaded then. */
const missed = new Map<string, number>();

/**
 * Registers the class that gives `topic` a class, found among the classes that loaded modules
 * export (as the seeds' library imports a topic's module): the aggregate class whose topic it is
 * or that has it as a nested event class, or a stand-alone event class. So a process that reads
 * stored events before it uses their classes needs no register() for classes its modules export.
 * Two different classes that would both take the topic are an error naming them.
 */
function discoverTopic(topic: string): void {
  const modules = loadedModuleCount();
  if (missed.get(topic) === modules) return;
  const owners = new Set<Function>();
  for (const value of loadedExportedFunctions()) {
    try {
      if (isAggregateClass(value)) {
        if (registeredTopic(value) !== undefined) continue;
        const own = ownTopic(value) ?? value.name;
        if (own === topic) owners.add(value);
        for (const [eventTopic] of nestedEventClasses(value, own)) if (eventTopic === topic) owners.add(value);
      } else if (isEventClass(value) && registeredTopic(value) === undefined && (ownTopic(value) ?? value.name) === topic) {
        owners.add(value);
      }
    } catch (error) {
      if (!(error instanceof TopicError)) throw error; // a class whose own topic is invalid cannot be it
    }
  }
  if (owners.size > 1) {
    throw new TopicError(
      `topic '${topic}' could be any of the loaded classes ${[...owners].map((owner) => owner.name).join(', ')}: ` +
        `register the right one with register() at start-up`,
    );
  }
  const [owner] = owners;
  if (owner === undefined) missed.set(topic, modules);
  else register(owner as AggregateClass<any>);
}

setTopicDiscovery(discoverTopic);
