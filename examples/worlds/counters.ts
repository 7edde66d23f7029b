// The seeds' Counters process application, following WorldsApplication.
import { parse as parseUuid, v5 as uuid5 } from 'uuid';
import {
  Aggregate,
  AggregateCreated,
  AggregateEvent,
  AggregateNotFound,
  DomainEvent,
  ProcessApplication,
  ProcessEvent,
  register,
  System,
} from '../../src';
import { World, WorldsApplication } from './domain';

/** The URL namespace, parsed once rather than on every id made. */
const URL_NAMESPACE = parseUuid(uuid5.URL);

export class Counter extends Aggregate {
  count = 0;

  static createId(name: string): string {
    return uuid5(`/counters/${name}`, URL_NAMESPACE);
  }

  static create(name: string): Counter {
    return Counter._create(Counter.Created, { id: Counter.createId(name) });
  }

  increment(): void {
    this.triggerEvent(Counter.Incremented, {});
  }

  static Created = class Created extends AggregateCreated {};

  static Incremented = class Incremented extends AggregateEvent<Counter> {
    apply(counter: Counter): void {
      counter.count += 1;
    }
  };
}

register(Counter);

export class Counters extends ProcessApplication {
  /** The methods an ActorRunner may call by message (runner.ask). */
  static commands = ['getCount'] as const;

  async policy(domainEvent: DomainEvent, processEvent: ProcessEvent): Promise<void> {
    if (domainEvent instanceof World.SomethingHappened) {
      const counterId = Counter.createId(domainEvent.what);
      let counter: Counter;
      try {
        counter = await this.repository.get<Counter>(counterId);
      } catch (error) {
        if (!(error instanceof AggregateNotFound)) throw error;
        counter = Counter.create(domainEvent.what);
      }
      counter.increment();
      processEvent.save(counter);
    }
  }

  async getCount(what: string): Promise<number> {
    try {
      const counter = await this.repository.get<Counter>(Counter.createId(what));
      return counter.count;
    } catch (error) {
      if (error instanceof AggregateNotFound) return 0;
      throw error;
    }
  }
}

export const system = new System({ pipes: [[WorldsApplication, Counters]] });
