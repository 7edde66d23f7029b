// OpenTelemetry through @opentelemetry/api alone, an optional peer dependency loaded the first time
// an application is made: without it there is no tracing and no metrics, at no cost; with it and no
// SDK registered, the API's no-op implementations (a span that records nothing, counters that count
// nothing). Nothing of the API's types reaches the package's declarations.
import type * as Api from '@opentelemetry/api';
import { isModuleNotFound } from '../persistence/peers';
import { TELEMETRY_ATTRIBUTES as ATTRIBUTES, TELEMETRY_METRICS, TELEMETRY_SCOPE } from './names';

export { ATTRIBUTES };

export type OtelApi = typeof Api;
export type { Attributes, Counter, Link, Span, SpanContext, Tracer } from '@opentelemetry/api';

const API = '@opentelemetry/api';

let loaded: OtelApi | null | undefined;

/** The OpenTelemetry API if it is installed (undefined if not), loaded once. */
export function otel(): OtelApi | undefined {
  if (loaded === undefined) loaded = loadApi();
  return loaded ?? undefined;
}

function loadApi(): OtelApi | null {
  try {
    const api = require(API) as OtelApi;
    // Before 1.3 the API had no metrics: too old to use.
    return typeof api?.trace?.getTracer === 'function' && typeof api.metrics?.getMeter === 'function' ? api : null;
  } catch (error) {
    if (isModuleNotFound(error, API)) return null;
    throw error;
  }
}

/**
 * For the benchmark and tests: behave as if the API were not installed (`null`), load it again
 * (`undefined`), or use this one.
 */
export function useOtelApiForTests(api: OtelApi | null | undefined): void {
  loaded = api;
  tracerOf = undefined;
  instrumentsOf = undefined;
}

let tracerOf: { api: OtelApi; tracer: Api.Tracer } | undefined;

/**
 * The tracer, got once: the API's tracer is a proxy, so one got before an SDK was registered
 * traces once it is.
 */
export function tracer(api: OtelApi): Api.Tracer {
  if (tracerOf?.api !== api) tracerOf = { api, tracer: api.trace.getTracer(TELEMETRY_SCOPE) };
  return tracerOf.tracer;
}

export interface Instruments {
  readonly api: OtelApi;
  readonly meter: Api.Meter;
  readonly eventsRecorded: Api.Counter;
  readonly notificationsProcessed: Api.Counter;
  readonly restarts: Api.Counter;
  readonly followerLag: Api.ObservableGauge;
}

let instrumentsOf: { provider: Api.MeterProvider; instruments: Instruments } | undefined;

/**
 * The instruments of the meter provider registered now. The metrics API has no proxy: what is
 * made before an SDK is registered counts nothing, so applications and runners take their
 * instruments when they are made (register the SDK first).
 */
export function instruments(api: OtelApi): Instruments {
  const provider = api.metrics.getMeterProvider();
  if (instrumentsOf?.provider !== provider) {
    const meter = provider.getMeter(TELEMETRY_SCOPE);
    instrumentsOf = {
      provider,
      instruments: {
        api,
        meter,
        eventsRecorded: meter.createCounter(TELEMETRY_METRICS.eventsRecorded, { description: 'Domain events recorded by an application', unit: '{event}' }),
        notificationsProcessed: meter.createCounter(TELEMETRY_METRICS.notificationsProcessed, {
          description: 'Notifications of an upstream log processed by a follower',
          unit: '{notification}',
        }),
        restarts: meter.createCounter(TELEMETRY_METRICS.restarts, { description: 'Restarts of a process application after a failure', unit: '{restart}' }),
        followerLag: meter.createObservableGauge(TELEMETRY_METRICS.followerLag, {
          description: 'Notifications of an upstream log a follower has not yet processed',
          unit: '{notification}',
        }),
      },
    };
  }
  return instrumentsOf.instruments;
}

/** What the package reports through: the API, its tracer, its instruments. */
export interface Telemetry {
  readonly api: OtelApi;
  readonly tracer: Api.Tracer;
  readonly instruments: Instruments;
}

/** The telemetry of the SDK registered now, when the API is installed (see tracer and instruments). */
export function telemetry(): Telemetry | undefined {
  const api = otel();
  return api === undefined ? undefined : { api, tracer: tracer(api), instruments: instruments(api) };
}

/** The attributes that name an application in a pipeline (and an upstream), frozen: made once, used on every call. */
export function processAttributes(application: string, pipelineId: number, upstream?: string): Api.Attributes {
  const attributes: Api.Attributes = { [ATTRIBUTES.application]: application, [ATTRIBUTES.pipelineId]: pipelineId };
  if (upstream !== undefined) attributes[ATTRIBUTES.upstream] = upstream;
  return Object.freeze(attributes);
}

/** Records `error` on `span` and marks it failed. */
export function spanFailed(api: OtelApi, span: Api.Span, error: unknown): void {
  const real = error instanceof Error ? error : new Error(String(error));
  span.recordException(real);
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: `${real.name}: ${real.message}` });
}
