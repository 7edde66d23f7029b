import { v4 as uuid4 } from 'uuid';
import {
  Aggregate,
  AggregateCreated,
  AggregateEvent,
  makeEvent,
  topicOf,
  type AggregateClass,
  type EventAttributes,
  type EventClass,
} from '../domain';
import { checkError, checkEvents, count, noError, unexpectedError, type Expectation } from './expected-events';

/** An event of the history, given as an event, or as its class and attributes (the spec numbers it). */
type GivenEvent = AggregateEvent<any> | { readonly type: EventClass<AggregateEvent<any>>; readonly attributes: object };

/** What a `when` did: the aggregate it left, the new events it triggered, or what it threw. */
interface Outcome<A extends Aggregate> {
  readonly aggregate?: A;
  readonly events: AggregateEvent<any>[];
  readonly threw: boolean;
  readonly error?: unknown;
}

/**
 * Given/when/then for an aggregate, in the manner of Emmett's DeciderSpecification: given the events
 * of its history, when a command is called on the aggregate they make, then these new events (or
 * this error, or nothing). The history is applied as the repository applies stored events (each
 * event's `mutate`, in order), so the command meets the aggregate it would meet in an application.
 *
 *     aggregateSpecification(Account)
 *       .given(Account.Opened, { owner: 'alice' })
 *       .given(Account.Deposited, { amount: 100 })
 *       .when((account) => account.withdraw(30))
 *       .thenEvents(event(Account.Withdrawn, { amount: 30 }));
 *
 * Specifications are immutable: each `given` and `when` returns a new one, and each `then...` runs
 * the history and the command afresh. The last step is `thenEvents`, not `then`: an object with a
 * `then` method is a thenable, which `await` (or a test returning it) would call as a promise's.
 */
export class AggregateSpecification<A extends Aggregate> {
  constructor(
    readonly aggregateClass: AggregateClass<A>,
    /** The aggregate's id in the events the specification makes (default: a random UUID per specification). */
    readonly id: string = uuid4(),
    private readonly history: readonly GivenEvent[] = [],
  ) {}

  /**
   * One more event of the history: an event of class `type` with these attributes (its originator id,
   * version, timestamp and, for the first, the aggregate's topic are filled in), or events made
   * elsewhere (`aggregate.collectEvents()`), taken as they are.
   */
  given<E extends AggregateEvent<any>>(type: EventClass<E>, attributes: EventAttributes<E>): AggregateSpecification<A>;
  given(...events: AggregateEvent<any>[]): AggregateSpecification<A>;
  given(...args: unknown[]): AggregateSpecification<A> {
    const added: GivenEvent[] =
      typeof args[0] === 'function'
        ? [{ type: args[0] as EventClass<AggregateEvent<any>>, attributes: (args[1] ?? {}) as object }]
        : (args as AggregateEvent<any>[]);
    return new AggregateSpecification(this.aggregateClass, this.id, [...this.history, ...added]);
  }

  /**
   * The command: called with the aggregate the history makes (none when there is no history, for a
   * command that creates one: `when(() => Account.open('alice'))`). A command that returns an
   * aggregate (a creation) is judged by that aggregate's new events.
   */
  when(command: (aggregate: A) => unknown): AggregateCommandSpecification<A> {
    return new AggregateCommandSpecification(this, command);
  }

  /** The aggregate that the history makes (undefined for no history); its new events are none. */
  replay(): A | undefined {
    let aggregate: A | undefined;
    let version = 0;
    let topic: string | undefined;
    for (const given of this.history) {
      let made: AggregateEvent<any>;
      if (given instanceof AggregateEvent) {
        made = given;
      } else {
        const fields: Record<string, unknown> = { originatorId: aggregate?.id ?? this.id, originatorVersion: version + 1, timestamp: new Date(), ...given.attributes };
        if (given.type.prototype instanceof AggregateCreated) fields.originatorTopic = topic ??= topicOf(this.aggregateClass);
        made = makeEvent(given.type, fields as never);
      }
      aggregate = made.mutate(aggregate) as A;
      version = aggregate.version;
    }
    return aggregate;
  }
}

/** An aggregate specification with its command: judged by `thenEvents`, `thenThrows` or `thenNothingHappened`. */
export class AggregateCommandSpecification<A extends Aggregate> {
  constructor(
    readonly specification: AggregateSpecification<A>,
    private readonly command: (aggregate: A) => unknown,
  ) {}

  /**
   * Checks that the command triggered exactly these new events, in order (an event class alone
   * matches any event of it; `event(type, attributes, common)` compares attributes as a whole);
   * otherwise an AssertionError shows, event by event, what differs. Returns the aggregate and its
   * new events, for further checks of its state.
   */
  thenEvents(...expected: Expectation[]): { aggregate: A; events: AggregateEvent<any>[] } {
    const outcome = this.run();
    if (outcome.threw) throw unexpectedError('the command', `to trigger ${count(expected.length, 'event')}`, outcome.error);
    checkEvents('the command to trigger', outcome.events, expected);
    return { aggregate: outcome.aggregate!, events: outcome.events };
  }

  /**
   * Checks that the command threw (an instance of `errorClass`, when given, whose message contains
   * `message`, or matches it); otherwise an AssertionError says what it did instead. Returns the error.
   */
  thenThrows<E extends Error = Error>(errorClass?: abstract new (...args: any[]) => E, message?: string | RegExp): E {
    const outcome = this.run();
    if (!outcome.threw) throw noError('the command', outcome.events);
    checkError('the command', outcome.error, errorClass, message);
    return outcome.error as E;
  }

  /** Checks that the command triggered no event and threw nothing. Returns the aggregate. */
  thenNothingHappened(): A | undefined {
    const outcome = this.run();
    if (outcome.threw) throw unexpectedError('the command', 'to do nothing', outcome.error);
    if (outcome.events.length > 0) checkEvents('the command to trigger', outcome.events, []);
    return outcome.aggregate;
  }

  private run(): Outcome<A> {
    const aggregate = this.specification.replay();
    let result: unknown;
    try {
      result = this.command(aggregate as A);
    } catch (error) {
      return { aggregate, events: [], threw: true, error };
    }
    if (result instanceof Promise) {
      result.catch(() => undefined); // judged by the TypeError below, not by an unhandled rejection
      throw new TypeError(
        'an aggregate specification takes a synchronous command (aggregates decide synchronously); ' +
          'test what an application does asynchronously with processSpecification or through the application',
      );
    }
    const judged = result instanceof Aggregate ? (result as A) : aggregate;
    return { aggregate: judged, events: judged?.collectEvents() ?? [], threw: false };
  }
}

/** An aggregate specification of `aggregateClass` (see AggregateSpecification); `id` is the aggregate's id in its history. */
export function aggregateSpecification<A extends Aggregate>(aggregateClass: AggregateClass<A>, options: { id?: string } = {}): AggregateSpecification<A> {
  return new AggregateSpecification(aggregateClass, options.id);
}
