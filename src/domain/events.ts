import { freeze, immerable } from 'immer';
import type { Aggregate } from './aggregate';
import { OriginatorError } from './errors';
import { assignFields } from './fields';
import { resolveTopic } from './topics';
import type { Upcaster } from './upcasting';

/** What an event is made from: the common fields and the subclass's own attributes. */
export type EventFields = DomainEventFields & { readonly [attribute: string]: unknown };

/** The fields every domain event has. */
export interface DomainEventFields {
  readonly originatorId: string;
  readonly originatorVersion: number;
  readonly timestamp: Date;
}

/**
 * Something that happened. Subclasses declare their own fields with `declare readonly x: T` (no
 * initialisers: an event's fields are set once, from its attributes, and the event is then frozen).
 */
export abstract class DomainEvent implements DomainEventFields {
  declare readonly originatorId: string;
  declare readonly originatorVersion: number;
  declare readonly timestamp: Date;

  /** Stable name of this class in storage (defaults are described in topics.ts). */
  static topic?: string;
  /** Version of this class's state shape; older stored states are upcast on read. */
  static classVersion?: number;
  static upcasters?: Readonly<Record<number, Upcaster>>;

  /** Takes the fields as plain data fields: none may name the class's methods or accessors, or `__proto__`. */
  constructor(fields: EventFields) {
    assignFields(this, fields);
  }
}

// Lets immer freeze events deeply and make changed copies of them with produce().
(DomainEvent.prototype as unknown as Record<symbol, boolean>)[immerable] = true;

/** The attributes a subclass of `Base` adds: its data fields, without methods or `Base`'s own fields. */
export type AddedAttributes<E, Base> = {
  [K in keyof E as K extends keyof Base ? never : E[K] extends (...args: never[]) => unknown ? never : K]: E[K];
};

export type EventClass<E extends DomainEvent = DomainEvent> = (new (fields: EventFields) => E) & {
  topic?: string;
  classVersion?: number;
  upcasters?: Readonly<Record<number, Upcaster>>;
};

/** Makes a frozen event of class `cls` from its fields (events are immutable once made). */
export function makeEvent<E extends DomainEvent>(cls: EventClass<E>, fields: EventFields): E {
  return freeze(new cls(fields), true);
}

type MutableAggregate = { -readonly [K in keyof Aggregate]: Aggregate[K] };

/** An event in an aggregate's sequence: `apply` changes the aggregate's state. */
export class AggregateEvent<A extends Aggregate = Aggregate> extends DomainEvent {
  /** Changes the aggregate's state. Override in subclasses; the default changes nothing. */
  apply(_aggregate: A): void {}

  /** Checks the event follows the aggregate's current version, applies it and moves the version on. */
  mutate(aggregate: A | undefined): A {
    if (aggregate === undefined) {
      throw new OriginatorError(
        `${this.constructor.name} v${this.originatorVersion} of ${this.originatorId} cannot be applied to no aggregate`,
      );
    }
    if (aggregate.id !== this.originatorId) {
      throw new OriginatorError(
        `${this.constructor.name} of ${this.originatorId} cannot be applied to aggregate ${aggregate.id}`,
      );
    }
    if (aggregate.version + 1 !== this.originatorVersion) {
      throw new OriginatorError(
        `${this.constructor.name} v${this.originatorVersion} of ${this.originatorId} ` +
          `does not follow the aggregate's version ${aggregate.version}`,
      );
    }
    this.apply(aggregate);
    const mutable = aggregate as unknown as MutableAggregate;
    mutable.version = this.originatorVersion;
    mutable.modifiedOn = this.timestamp;
    return aggregate;
  }
}

/** The first event of an aggregate: it names the aggregate's class by topic and makes the aggregate. */
export class AggregateCreated<A extends Aggregate = Aggregate> extends AggregateEvent<A> {
  declare readonly originatorTopic: string;

  override mutate(aggregate: A | undefined): A {
    if (aggregate !== undefined) {
      throw new OriginatorError(`${this.constructor.name} of ${this.originatorId} cannot be applied to an existing aggregate`);
    }
    if (this.originatorVersion !== 1) {
      throw new OriginatorError(`${this.constructor.name} of ${this.originatorId} must have version 1, has ${this.originatorVersion}`);
    }
    const aggregateClass = resolveTopic(this.originatorTopic, 'aggregate') as new () => A;
    const created = new aggregateClass();
    const mutable = created as unknown as MutableAggregate;
    mutable.id = this.originatorId;
    mutable.version = this.originatorVersion;
    mutable.createdOn = this.timestamp;
    mutable.modifiedOn = this.timestamp;
    this.apply(created);
    return created;
  }
}
