import { AssertionError } from 'node:assert';
import { inspect, isDeepStrictEqual } from 'node:util';
import { registeredTopic, type AggregateEvent, type DomainEvent, type DomainEventFields, type EventAttributes, type EventClass } from '../domain';

/** The fields every event has, which an expectation may name but need not. */
const COMMON_FIELDS: ReadonlySet<string> = new Set(['originatorId', 'originatorVersion', 'timestamp', 'originatorTopic']);

/** What an expected event may say of the common fields (any it leaves out are not compared). */
export type ExpectedCommonFields = Partial<DomainEventFields>;

/**
 * An event a specification expects: of exactly `type`, and when `attributes` are given, with
 * exactly those attributes (every field the class adds, none more, none fewer), and the common
 * fields it names (originatorId, originatorVersion, timestamp; the others are not compared).
 */
export interface ExpectedEvent {
  readonly type: EventClass<any>;
  readonly attributes?: Readonly<Record<string, unknown>>;
  readonly common: ExpectedCommonFields;
}

/** What `thenEvents` takes for each event: an event class alone (any event of it), or `event(...)`. */
export type Expectation = ExpectedEvent | EventClass<any>;

/**
 * An expected event of class `type` with these attributes (all of them: the attributes are compared
 * as a whole), and with the common fields that `common` names.
 */
export function event<E extends AggregateEvent<any>>(type: EventClass<E>, attributes?: EventAttributes<E>, common: ExpectedCommonFields = {}): ExpectedEvent {
  return { type, attributes: attributes as Record<string, unknown> | undefined, common };
}

function expectation(expected: Expectation): ExpectedEvent {
  return typeof expected === 'function' ? { type: expected, common: {} } : expected;
}

/** The fields an event's class adds (its attributes), without the common ones. */
export function attributesOf(actual: DomainEvent): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(actual)) if (!COMMON_FIELDS.has(key)) attributes[key] = value;
  return attributes;
}

/** What differs between an event and an expectation (empty when it matches). */
function differences(actual: DomainEvent, expected: ExpectedEvent): string[] {
  if (actual.constructor !== expected.type) return [`is ${nameOf(actual.constructor as EventClass)}, not ${nameOf(expected.type)}`];
  const found: string[] = [];
  for (const [key, value] of Object.entries(expected.common)) {
    const got = (actual as unknown as Record<string, unknown>)[key];
    if (!isDeepStrictEqual(got, value)) found.push(`${key} is ${show(got)}, not ${show(value)}`);
  }
  if (expected.attributes !== undefined) {
    const got = attributesOf(actual);
    for (const key of new Set([...Object.keys(expected.attributes), ...Object.keys(got)])) {
      if (!(key in got)) found.push(`${key} is missing`);
      else if (!(key in expected.attributes)) found.push(`${key} is ${show(got[key])}, not expected`);
      else if (!isDeepStrictEqual(got[key], expected.attributes[key])) found.push(`${key} is ${show(got[key])}, not ${show(expected.attributes[key])}`);
    }
  }
  return found;
}

/** An event class's topic (World.SomethingHappened) when it has one, else its name. */
export function nameOf(cls: EventClass<any>): string {
  return registeredTopic(cls) ?? cls.name;
}

export function show(value: unknown): string {
  return inspect(value, { depth: 4, breakLength: Infinity, compact: true });
}

/** One line for an event: class, version, originator and attributes. */
export function describeEvent(actual: DomainEvent): string {
  return `${nameOf(actual.constructor as EventClass)} v${actual.originatorVersion} of ${actual.originatorId} ${show(attributesOf(actual))}`;
}

/**
 * An event described in the terms of an expectation (the common fields it names, its attributes or
 * not), so that a test runner's diff of the two descriptions shows only what differs.
 */
function describeLike(actual: DomainEvent, expected: ExpectedEvent | undefined): string {
  if (expected === undefined) return describeEvent(actual);
  const fields = actual as unknown as Record<string, unknown>;
  const common = Object.keys(expected.common).map((key) => `${key} ${show(fields[key])}`);
  const attributes = expected.attributes === undefined && actual.constructor === expected.type ? '(any attributes)' : show(attributesOf(actual));
  return [nameOf(actual.constructor as EventClass), ...common, attributes].join(' ');
}

function describeExpected(expected: ExpectedEvent): string {
  const common = Object.entries(expected.common).map(([key, value]) => `${key} ${show(value)}`);
  const attributes = expected.attributes === undefined ? '(any attributes)' : show(expected.attributes);
  return [nameOf(expected.type), ...common, attributes].join(' ');
}

/** The events as a list, one a line (or "none"). */
export function listEvents(events: readonly DomainEvent[]): string {
  return events.length === 0 ? '  none' : events.map((e, index) => `  [${index}] ${describeEvent(e)}`).join('\n');
}

/**
 * Checks that `actual` are the expected events, in order; otherwise fails with an AssertionError
 * that shows, event by event, what was expected, what came, and what differs.
 */
export function checkEvents(what: string, actual: readonly DomainEvent[], expectations: readonly Expectation[]): void {
  const expected = expectations.map(expectation);
  const lines: string[] = [];
  let failed = actual.length !== expected.length;
  for (let index = 0; index < Math.max(actual.length, expected.length); index++) {
    const got = actual[index];
    const want = expected[index];
    if (want === undefined) {
      lines.push(`  [${index}] ✗ not expected: ${describeEvent(got)}`);
    } else if (got === undefined) {
      lines.push(`  [${index}] ✗ expected ${describeExpected(want)}`, '        got nothing');
    } else {
      const found = differences(got, want);
      if (found.length === 0) {
        lines.push(`  [${index}] ✓ ${describeEvent(got)}`);
      } else {
        failed = true;
        lines.push(`  [${index}] ✗ expected ${describeExpected(want)}`, `        got      ${describeEvent(got)}`, `        (${found.join('; ')})`);
      }
    }
  }
  if (!failed) return;
  throw new AssertionError({
    message: `expected ${what} ${count(expected.length, 'event')}, got ${actual.length}:\n${lines.join('\n')}`,
    actual: actual.map((got, index) => describeLike(got, expected[index])),
    expected: expected.map(describeExpected),
    operator: 'thenEvents',
  });
}

export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** What an error's class is named and says, in one line. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : show(error);
}

/** Checks an error against thenThrows' expectation, failing with an AssertionError that says how it differs. */
export function checkError(
  what: string,
  error: unknown,
  errorClass: (abstract new (...args: any[]) => Error) | undefined,
  message: string | RegExp | undefined,
): void {
  const problems: string[] = [];
  if (errorClass !== undefined && !(error instanceof errorClass)) problems.push(`it is not an instance of ${errorClass.name}`);
  const text = error instanceof Error ? error.message : String(error);
  if (typeof message === 'string' && !text.includes(message)) problems.push(`its message does not contain ${show(message)}`);
  if (message instanceof RegExp && !message.test(text)) problems.push(`its message does not match ${String(message)}`);
  if (problems.length === 0) return;
  throw new AssertionError({
    message: `expected ${what} to throw${errorClass === undefined ? '' : ` ${errorClass.name}`}, and it threw ${describeError(error)}: ${problems.join(', and ')}`,
    actual: describeError(error),
    expected: [errorClass?.name, message === undefined ? undefined : String(message)].filter(Boolean).join(': '),
    operator: 'thenThrows',
  });
}

/** The AssertionError for a step that threw where events were expected. */
export function unexpectedError(what: string, expectedWhat: string, error: unknown): AssertionError {
  const failure = new AssertionError({
    message: `expected ${what} ${expectedWhat}, and it threw ${describeError(error)}`,
    actual: describeError(error),
    expected: expectedWhat,
    operator: 'then',
  });
  (failure as { cause?: unknown }).cause = error;
  return failure;
}

/** The AssertionError for a step that did not throw where thenThrows expected it to. */
export function noError(what: string, events: readonly DomainEvent[]): AssertionError {
  return new AssertionError({
    message: `expected ${what} to throw, and it did not: it produced ${count(events.length, 'event')}:\n${listEvents(events)}`,
    actual: events.map(describeEvent),
    expected: 'an error',
    operator: 'thenThrows',
  });
}
