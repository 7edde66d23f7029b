import { Aggregate, AggregateClass, registerAggregate } from './aggregate';
import { DomainEvent } from './events';
import { assignFields } from './fields';
import { resolveTopic, registerTopic } from './topics';
import { CLASS_VERSION_KEY, classVersionOf, StateObject, upcast } from './upcasting';

/**
 * The state of an aggregate at one version. `topic` names the aggregate's class; `state` holds the
 * aggregate's own enumerable fields (id, version, createdOn, modifiedOn and the subclass's fields),
 * recorded with the aggregate class's version so that older snapshots can be upcast on read.
 */
export class Snapshot extends DomainEvent {
  static override topic = 'eventsourcing:Snapshot';

  declare readonly topic: string;
  declare readonly state: StateObject;

  static take(aggregate: Aggregate): Snapshot {
    const cls = aggregate.constructor as AggregateClass;
    const topic = registerAggregate(cls);
    const state: StateObject = { ...aggregate };
    const version = classVersionOf(cls as AggregateClass & { name: string });
    if (version > 1) state[CLASS_VERSION_KEY] = version;
    // Shallow freeze only: `state` shares nested objects with the live aggregate.
    return Object.freeze(
      new Snapshot({
        originatorId: aggregate.id,
        originatorVersion: aggregate.version,
        timestamp: new Date(),
        topic,
        state,
      }),
    );
  }

  /** Makes the aggregate this snapshot describes (its state upcast to the class's current version). */
  mutate<A extends Aggregate>(_aggregate?: undefined): A {
    const cls = resolveTopic(this.topic, 'aggregate') as AggregateClass<A> & { name: string };
    const aggregate = new cls();
    assignFields(aggregate, upcast(cls, this.state));
    return aggregate;
  }
}

registerTopic(Snapshot.topic as string, Snapshot, 'event');
