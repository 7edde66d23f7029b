import { RateLimitedLog, type Logger } from '../../observability/logger';
import { recordingLinks, type EventKey } from '../../observability/recording-links';
import * as otel from '../../observability/telemetry';
import { ATTRIBUTES, spanFailed, type Link, type OtelApi, type Span, type SpanContext, type Tracer } from '../../observability/telemetry';
import type { Notification } from '../../persistence';
import type { BatchOutcome } from './batch-outcome';
import type { UpstreamReader } from './upstream-reader';

/** A batch that takes longer than this (policy calls and the write) is a warning, by default. */
export const DEFAULT_SLOW_BATCH_MS = 1000;

/** Most links a batch's span carries (the SDK's default limit). */
const MAX_BATCH_LINKS = 128;

/**
 * What watches a follower's processing: its slow batches and the conflicts it retries (logged),
 * the notifications it processes (`eventsourcing.notifications.processed`), and, when a span
 * records, a span per batch (`process <follower>`) with a child per policy call (`policy
 * <follower>`), each linked to the span that recorded its notifications, when that was in this
 * process (see RecordingLinks).
 */
export class FollowerObserver {
  readonly #slowBatches: RateLimitedLog;
  readonly #tracing: FollowerTracing | undefined;
  readonly #processed: otel.Counter | undefined;
  readonly #attributes = new WeakMap<UpstreamReader, otel.Attributes>();

  constructor(
    readonly followerName: string,
    /** The follower's own recorder: what it records is linked to the policy calls that saved it. */
    private readonly recorder: object,
    private readonly logger: Logger,
    readonly slowBatchMs: number,
  ) {
    this.#slowBatches = new RateLimitedLog(logger);
    const reporting = otel.telemetry();
    if (reporting !== undefined) {
      this.#tracing = new FollowerTracing(reporting, followerName);
      this.#processed = reporting.instruments.notificationsProcessed;
    }
  }

  /** A traced batch, when a span records (undefined otherwise: no SDK, or not sampled). */
  traceBatch(reader: UpstreamReader, notifications: readonly Notification[]): TracedBatch | undefined {
    return this.#tracing?.startBatch(reader, notifications, this.recorder);
  }

  /** A batch ended (what it processed is recorded): counts it, and warns if it was slow. */
  batchEnded(reader: UpstreamReader, notifications: readonly Notification[], outcome: BatchOutcome, durationMs: number, traced: TracedBatch | undefined): void {
    traced?.end(outcome);
    if (outcome.processed > 0) this.#processed?.add(outcome.processed, this.attributesOf(reader));
    if (durationMs <= this.slowBatchMs) return;
    const { upstream, pipelineId } = reader;
    const first = notifications[0].id;
    const last = notifications[notifications.length - 1].id;
    const ms = Math.round(durationMs);
    this.#slowBatches.log(
      'warn',
      `${pipelineId}:${upstream.name}`,
      {
        application: this.followerName,
        pipelineId,
        upstream: upstream.name,
        firstNotificationId: first,
        lastNotificationId: last,
        count: notifications.length,
        processed: outcome.processed,
        durationMs: ms,
      },
      `${this.followerName} (pipeline ${pipelineId}) took ${ms} ms to process notifications ${first}-${last} of ${upstream.name} ` +
        `(${notifications.length} in one batch; slow batches are those over ${this.slowBatchMs} ms)`,
      ['slow batch', 'slow batches'],
    );
  }

  /** Work lost a race with another writer and is done again (`retry` of MAX_CONFLICT_RETRIES) after `delayMs`. */
  conflicted(reader: UpstreamReader, error: unknown, retry: number, delayMs: number): void {
    const { upstream, pipelineId } = reader;
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.logger.info(
      { application: this.followerName, pipelineId, upstream: upstream.name, attempt: retry, delayMs, err: error },
      `${this.followerName} (pipeline ${pipelineId}) lost a race processing ${upstream.name} and tries again` +
        `${delayMs > 0 ? ` in ${delayMs} ms` : ''} (retry ${retry}): ${what}`,
    );
  }

  private attributesOf(reader: UpstreamReader): otel.Attributes {
    let attributes = this.#attributes.get(reader);
    if (attributes === undefined) {
      this.#attributes.set(reader, (attributes = otel.processAttributes(this.followerName, reader.pipelineId, reader.upstream.name)));
    }
    return attributes;
  }
}

/** The spans of one follower. */
class FollowerTracing {
  readonly api: OtelApi;
  readonly #tracer: Tracer;
  readonly #batchName: string;
  readonly #batchOptions: { readonly kind: number; readonly root: true };

  constructor(
    { api, tracer }: otel.Telemetry,
    readonly followerName: string,
  ) {
    this.api = api;
    this.#tracer = tracer;
    this.#batchName = `process ${followerName}`;
    // A batch is a root: what started the loop that runs it is not its cause; links say what is.
    this.#batchOptions = Object.freeze({ kind: api.SpanKind.CONSUMER, root: true });
  }

  startBatch(reader: UpstreamReader, notifications: readonly Notification[], recorder: object): TracedBatch | undefined {
    const log = reader.upstream.recorder;
    // What recorded each notification, as far as known now (nothing to look up if no span recorded in the log).
    const recorded = recordingLinks.has(log) ? notifications.map((notification) => recordingLinks.recordedBy(log, notification)) : [];
    const links = distinctLinks(recorded);
    const span = this.#tracer.startSpan(this.#batchName, links === undefined ? this.#batchOptions : { ...this.#batchOptions, links });
    if (!span.isRecording()) return undefined;
    span.setAttributes({
      [ATTRIBUTES.application]: this.followerName,
      [ATTRIBUTES.upstream]: reader.upstream.name,
      [ATTRIBUTES.pipelineId]: reader.pipelineId,
      [ATTRIBUTES.firstNotificationId]: notifications[0].id,
      [ATTRIBUTES.lastNotificationId]: notifications[notifications.length - 1].id,
      [ATTRIBUTES.batchCount]: notifications.length,
    });
    return new TracingBatch(this.api, this.#tracer, span, this.followerName, reader, notifications, recorded, links, recorder);
  }
}


/** Links to the distinct spans of `recorded`, less those in `known` (undefined when there are none). */
function distinctLinks(recorded: ReadonlyArray<SpanContext | undefined>, known: readonly Link[] = []): Link[] | undefined {
  let links: Link[] | undefined;
  const seen = new Set(known.map((link) => link.context.spanId));
  for (const context of recorded) {
    if (context === undefined || seen.has(context.spanId)) continue;
    seen.add(context.spanId);
    (links ??= []).push({ context });
    if (seen.size === MAX_BATCH_LINKS) break;
  }
  return links;
}

/** One batch being traced, as processBatch sees it. */
export interface TracedBatch {
  /** Calls the policy for `notification` in a span of its own, the active span while it runs. */
  policy(notification: Notification, call: () => Promise<void>): Promise<void>;
  /** The policy call just made saved `count` events (the next ones the batch records). */
  saved(count: number): void;
  /**
   * Runs `record`, the write of the events the batch's policy calls saved, remembering each as
   * recorded by the policy call that saved it (forgotten if the write fails).
   */
  recording<T>(events: readonly EventKey[], record: () => Promise<T>): Promise<T>;
  end(outcome: BatchOutcome): void;
  failed(error: unknown): void;
}

/**
 * One batch being traced: its span, the spans of its policy calls (its children, each linked to
 * the span that recorded its notification), and which policy call saved each event it records.
 */
class TracingBatch implements TracedBatch {
  readonly #context: ReturnType<OtelApi['context']['active']>;
  /** The span context of the policy call that saved each event of the batch, in order. */
  readonly #origins: SpanContext[] = [];
  #lastPolicy: SpanContext | undefined;
  /** The index of the notification of the next policy call (they come in order). */
  #next = 0;

  constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly followerName: string,
    private readonly reader: UpstreamReader,
    private readonly notifications: readonly Notification[],
    /** The span that recorded each notification, as far as known (looked up again at its policy call if not). */
    private readonly recorded: Array<SpanContext | undefined>,
    /** The links the span started with. */
    private readonly links: readonly Link[] | undefined,
    private readonly recorder: object,
  ) {
    this.#context = api.trace.setSpan(api.context.active(), span);
  }

  async policy(notification: Notification, call: () => Promise<void>): Promise<void> {
    const { api } = this;
    const index = this.notifications[this.#next] === notification ? this.#next : this.notifications.indexOf(notification);
    this.#next = index + 1;
    const recorded = (this.recorded[index] ??= recordingLinks.recordedBy(this.reader.upstream.recorder, notification));
    const span = this.tracer.startSpan(
      `policy ${this.followerName}`,
      {
        kind: api.SpanKind.INTERNAL,
        attributes: {
          [ATTRIBUTES.application]: this.followerName,
          [ATTRIBUTES.upstream]: this.reader.upstream.name,
          [ATTRIBUTES.pipelineId]: this.reader.pipelineId,
          [ATTRIBUTES.notificationId]: notification.id,
          [ATTRIBUTES.topic]: notification.topic,
        },
        links: recorded === undefined ? undefined : [{ context: recorded }],
      },
      this.#context,
    );
    this.#lastPolicy = span.spanContext();
    try {
      await api.context.with(api.trace.setSpan(this.#context, span), call);
    } catch (error) {
      spanFailed(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  saved(count: number): void {
    for (let index = 0; index < count; index++) this.#origins.push(this.#lastPolicy!);
  }

  async recording<T>(events: readonly EventKey[], record: () => Promise<T>): Promise<T> {
    events.forEach((event, index) => recordingLinks.remember(this.recorder, event, this.#origins[index]));
    try {
      return await record();
    } catch (error) {
      events.forEach((event, index) => recordingLinks.forget(this.recorder, event, this.#origins[index]));
      throw error;
    }
  }

  end(outcome: BatchOutcome): void {
    this.span.setAttribute(ATTRIBUTES.batchProcessed, outcome.processed);
    // What recorded a notification may have become known only by its policy call (its save ran
    // into the batch's read); spans of API 1.9 and later take links until they end.
    if (typeof this.span.addLinks === 'function') {
      const late = distinctLinks(this.recorded, this.links);
      if (late !== undefined) this.span.addLinks(late);
    }
    if (outcome.failure !== undefined) spanFailed(this.api, this.span, outcome.failure);
    this.span.end();
  }

  failed(error: unknown): void {
    spanFailed(this.api, this.span, error);
    this.span.end();
  }
}
