import type { AggregateEvent } from '../domain';
import { recordingLinks } from '../observability/recording-links';
import type { Recording } from './recording';
import { DownstreamProcessingError } from './errors';
import { ATTRIBUTES, processAttributes, spanFailed, telemetry, type Attributes, type Counter, type OtelApi, type Span, type Telemetry, type Tracer } from '../observability/telemetry';

/**
 * An application's telemetry: the span of each command's save (`save <application>`), the count
 * of events it records (`eventsourcing.events.recorded`), and, for each notification a recording
 * span recorded, that span's context, for the spans that process it to link to. Made only when
 * @opentelemetry/api is installed; with no SDK, a save costs one non-recording span.
 */
export class ApplicationTelemetry {
  readonly #api: OtelApi;
  readonly #tracer: Tracer;
  readonly #eventsRecorded: Counter;
  readonly #saveName: string;
  readonly #saveOptions: { readonly kind: number };
  /** By pipeline id: the attributes of what this application records there. */
  readonly #attributes = new Map<number, Attributes>();

  static of(applicationName: string, pipelineId: number, recorder: object): ApplicationTelemetry | undefined {
    const reporting = telemetry();
    return reporting === undefined ? undefined : new ApplicationTelemetry(reporting, applicationName, pipelineId, recorder);
  }

  private constructor(
    { api, tracer, instruments }: Telemetry,
    readonly applicationName: string,
    readonly pipelineId: number,
    private readonly recorder: object,
  ) {
    this.#api = api;
    this.#tracer = tracer;
    this.#eventsRecorded = instruments.eventsRecorded;
    this.#saveName = `save ${applicationName}`;
    this.#saveOptions = Object.freeze({ kind: api.SpanKind.PRODUCER });
  }

  /** `count` events were recorded in `pipelineId`. */
  recorded(count: number, pipelineId: number): void {
    let attributes = this.#attributes.get(pipelineId);
    if (attributes === undefined) this.#attributes.set(pipelineId, (attributes = processAttributes(this.applicationName, pipelineId)));
    this.#eventsRecorded.add(count, attributes);
  }

  /**
   * Runs `body`, the save of `events`, in a span of its own when one records: it has the
   * application, the pipeline, the number of events and the first and last notification ids, it is
   * the active span while the save runs (the store's and the followers' work in it are its
   * children), and it fails with the save's error. The events are remembered as recorded by it,
   * for the spans that process them to link to.
   */
  save(events: readonly AggregateEvent<any>[], body: () => Promise<Recording[]>): Promise<Recording[]> {
    const span = this.#tracer.startSpan(this.#saveName, this.#saveOptions);
    if (!span.isRecording()) return body();
    return this.tracedSave(span, events, body);
  }

  private async tracedSave(span: Span, events: readonly AggregateEvent<any>[], body: () => Promise<Recording[]>): Promise<Recording[]> {
    const api = this.#api;
    span.setAttribute(ATTRIBUTES.application, this.applicationName);
    span.setAttribute(ATTRIBUTES.pipelineId, this.pipelineId);
    span.setAttribute(ATTRIBUTES.eventsCount, events.length);
    const spanContext = span.spanContext();
    for (const event of events) recordingLinks.remember(this.recorder, event, spanContext);
    try {
      const recordings = await api.context.with(api.trace.setSpan(api.context.active(), span), body);
      notificationIds(span, recordings[0].notificationId, recordings[recordings.length - 1].notificationId);
      return recordings;
    } catch (error) {
      if (error instanceof DownstreamProcessingError) {
        // Recorded, then processing failed: the events keep their link.
        notificationIds(span, error.notificationIds[0], error.notificationIds[error.notificationIds.length - 1]);
      } else {
        for (const event of events) recordingLinks.forget(this.recorder, event, spanContext);
      }
      spanFailed(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  }
}

function notificationIds(span: Span, first: number | undefined, last: number | undefined): void {
  if (first !== undefined) span.setAttribute(ATTRIBUTES.firstNotificationId, first);
  if (last !== undefined) span.setAttribute(ATTRIBUTES.lastNotificationId, last);
}
