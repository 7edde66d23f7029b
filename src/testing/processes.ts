import { Application, applicationNameOf, type ApplicationOptions, type EnvType } from '../application';
import { Aggregate, type DomainEvent } from '../domain';
import { PolicyError, type Follower } from '../system';
import { checkError, checkEvents, count, noError, unexpectedError, type Expectation } from './expected-events';

/** A process application class, as a system names it. */
export type ProcessClass<P extends Follower> = new (options?: ApplicationOptions) => P;

/** An upstream application class (made in memory, with its own transcodings) or an upstream's name. */
export type UpstreamSpecifier = (new (options?: ApplicationOptions) => Application) | string;

export interface ProcessSpecificationOptions {
  /** The application whose notifications the process follows (default: an application named 'Upstream'). */
  readonly upstream?: UpstreamSpecifier;
  /** Settings of both applications (persistence is always in memory). */
  readonly env?: EnvType;
}

/** Upstream domain events, given as events or as aggregates, whose pending events are taken (and collected). */
export type UpstreamInput = DomainEvent | Aggregate;

function eventsOf(inputs: readonly UpstreamInput[]): DomainEvent[] {
  return inputs.flatMap((input) => (input instanceof Aggregate ? input.collectEvents() : [input]));
}

/** The settings of an application of a specification: its own, in memory whatever the process environment says. */
function inMemory(name: string, env: EnvType | undefined): EnvType {
  return { ...env, PERSISTENCE: 'memory', [`${name.toUpperCase()}_PERSISTENCE`]: 'memory' };
}

/**
 * Given/when/then for a process application: given these upstream events (processed first; what
 * the policy saves for them is kept, as the state the new events meet), when these upstream events
 * follow, then the policy saves these events (or throws this error, or saves nothing).
 *
 *     await processSpecification(Counters, { upstream: WorldsApplication })
 *       .given(world)                         // an aggregate: its pending events
 *       .when(...moreEvents)
 *       .thenEvents(Counter.Created, Counter.Incremented);
 *
 * The events go through the real path: the upstream records them in its notification log (in
 * memory), the process pulls them, decodes them, calls its policy and records what it saved with
 * the tracking records. Every `then...` runs afresh, on applications of its own.
 */
export class ProcessSpecification<P extends Follower> {
  constructor(
    readonly processClass: ProcessClass<P>,
    readonly options: ProcessSpecificationOptions = {},
    private readonly history: readonly DomainEvent[] = [],
  ) {}

  /** Upstream events processed before the `when` events: they make the state those meet. */
  given(...inputs: UpstreamInput[]): ProcessSpecification<P> {
    return new ProcessSpecification(this.processClass, this.options, [...this.history, ...eventsOf(inputs)]);
  }

  /** The upstream events whose processing the `then...` steps judge. */
  when(...inputs: UpstreamInput[]): ProcessEventsSpecification<P> {
    return new ProcessEventsSpecification(this, this.history, eventsOf(inputs));
  }
}

/** What processing the `when` events did. */
interface ProcessOutcome<P extends Follower> {
  readonly process: P;
  readonly events: DomainEvent[];
  readonly threw: boolean;
  /** The policy's error (PolicyError's cause), or what else processing threw. */
  readonly error?: unknown;
}

/** A process specification with its `when` events: judged by `thenEvents`, `thenThrows` or `thenNothingHappened`. */
export class ProcessEventsSpecification<P extends Follower> {
  constructor(
    readonly specification: ProcessSpecification<P>,
    private readonly history: readonly DomainEvent[],
    private readonly events: readonly DomainEvent[],
  ) {}

  /**
   * Checks that the policy saved exactly these events for the `when` events, in order (see
   * AggregateCommandSpecification.thenEvents); resolves with the process application (in memory,
   * for further queries) and the events.
   */
  async thenEvents(...expected: Expectation[]): Promise<{ process: P; events: DomainEvent[] }> {
    const outcome = await this.run();
    if (outcome.threw) throw unexpectedError('the policy', `to save ${count(expected.length, 'event')}`, outcome.error);
    checkEvents('the policy to save', outcome.events, expected);
    return { process: outcome.process, events: outcome.events };
  }

  /** Checks that the policy threw on a `when` event (see AggregateCommandSpecification.thenThrows); resolves with its error. */
  async thenThrows<E extends Error = Error>(errorClass?: abstract new (...args: any[]) => E, message?: string | RegExp): Promise<E> {
    const outcome = await this.run();
    if (!outcome.threw) throw noError('the policy', outcome.events);
    checkError('the policy', outcome.error, errorClass, message);
    return outcome.error as E;
  }

  /** Checks that the policy saved nothing for the `when` events and threw nothing; resolves with the process application. */
  async thenNothingHappened(): Promise<P> {
    const outcome = await this.run();
    if (outcome.threw) throw unexpectedError('the policy', 'to save nothing', outcome.error);
    if (outcome.events.length > 0) checkEvents('the policy to save', outcome.events, []);
    return outcome.process;
  }

  private async run(): Promise<ProcessOutcome<P>> {
    const { processClass, options } = this.specification;
    const upstream = makeUpstream(options);
    const process = new processClass({ env: inMemory(applicationNameOf(processClass), options.env) });
    process.follow(upstream.name, upstream.recorder, upstream.mapper);
    if (this.history.length > 0) {
      await upstream.events.put(this.history);
      try {
        await process.pullAndProcess(upstream.name);
      } catch (error) {
        throw unexpectedError('the policy', 'to process the given events', error instanceof PolicyError ? error.cause : error);
      }
    }
    const position = await process.recorder.maxNotificationId();
    await upstream.events.put(this.events);
    let threw = false;
    let error: unknown;
    try {
      await process.pullAndProcess(upstream.name);
    } catch (caught) {
      threw = true;
      error = caught instanceof PolicyError ? caught.cause : caught;
    }
    return { process, events: await recordedSince(process, position), threw, error };
  }
}

function makeUpstream(options: ProcessSpecificationOptions): Application {
  const specifier = options.upstream ?? 'Upstream';
  if (typeof specifier === 'string') {
    const Named = class extends Application {};
    Named.applicationName = specifier;
    return new Named({ env: inMemory(specifier, options.env) });
  }
  return new specifier({ env: inMemory(applicationNameOf(specifier), options.env) });
}

/** The domain events the process recorded after notification `position`, in log order. */
async function recordedSince(process: Follower, position: number): Promise<DomainEvent[]> {
  const events: DomainEvent[] = [];
  for (let start = position + 1; ; ) {
    const page = await process.notificationLog.select(start, PAGE);
    events.push(...page.map((notification) => process.mapper.toDomainEvent(notification)));
    if (page.length < PAGE) return events;
    start = page[page.length - 1].id + 1;
  }
}

const PAGE = 1000;

/** A process specification of `processClass` (see ProcessSpecification). */
export function processSpecification<P extends Follower>(processClass: ProcessClass<P>, options: ProcessSpecificationOptions = {}): ProcessSpecification<P> {
  return new ProcessSpecification(processClass, options);
}
