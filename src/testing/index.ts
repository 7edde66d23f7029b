// Test helpers (the package's ./testing entry): given/when/then specifications of aggregates and of
// process applications, and helpers that run a system until it is idle. They throw node:assert's
// AssertionError, so they work under any test runner (jest, vitest, node:test, mocha).
export { AggregateCommandSpecification, AggregateSpecification, aggregateSpecification } from './aggregates';
export { event, listEvents, type Expectation, type ExpectedCommonFields, type ExpectedEvent } from './expected-events';
export {
  ProcessEventsSpecification,
  ProcessSpecification,
  processSpecification,
  type ProcessClass,
  type ProcessSpecificationOptions,
  type UpstreamInput,
  type UpstreamSpecifier,
} from './processes';
export { describeStatus, untilIdle, withRunner, type IdleOptions } from './runners';
