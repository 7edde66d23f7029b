/**
 * A span's context, as far as a link needs it (OpenTelemetry's SpanContext fits: this module's
 * declarations name no type of the optional API).
 */
export interface SpanContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/** How many events of each log keep the span that recorded them. */
export const RECORDING_LINKS_PER_LOG = 10_000;

/** An event as a log knows it: unique in its log. */
export interface EventKey {
  readonly originatorId: string;
  readonly originatorVersion: number;
}

/**
 * The span context of the span that recorded each of the latest events of each log, in process
 * memory, so that the span that processes its notification can link to the one that recorded it.
 *
 * A log is its recorder object: a follower reads the very recorder its leader writes through, in
 * one process, so two stores that hold applications of the same name are never confused. An event
 * is its aggregate's id and version, which the writer knows before it writes, so it is remembered
 * before the write, and a follower that reads the write the moment it commits finds it; a write
 * that fails forgets what it remembered. The first writer of an event keeps it (through one
 * recorder, writes are made in the order they are asked for: the later one of two conflicting
 * writes is the one that fails). Only spans that record are kept, and only the latest
 * RECORDING_LINKS_PER_LOG events of each log: a follower further behind than that, or in another
 * process, finds no link.
 */
class RecordingLinks {
  readonly #logs = new WeakMap<object, Log>();

  /** Remembers that `spanContext` records `event` (unless a span already does). */
  remember(recorder: object, event: EventKey, spanContext: SpanContext): void {
    let log = this.#logs.get(recorder);
    if (log === undefined) this.#logs.set(recorder, (log = new Log()));
    log.remember(event, spanContext);
  }

  /** The write of `event` by `spanContext` failed: forgets it (if that span is the one remembered). */
  forget(recorder: object, event: EventKey, spanContext: SpanContext): void {
    this.#logs.get(recorder)?.forget(event, spanContext);
  }

  /** Whether any event of the log is remembered (if none, no notification of it needs looking up). */
  has(recorder: object): boolean {
    return (this.#logs.get(recorder)?.size ?? 0) > 0;
  }

  /** The span that recorded `event` in the log, if it is remembered. */
  recordedBy(recorder: object, event: EventKey): SpanContext | undefined {
    return this.#logs.get(recorder)?.recordedBy(event);
  }
}

/**
 * One log's remembered spans, by aggregate id, then version (no key is made per event), and the
 * order they were remembered in, a ring of RECORDING_LINKS_PER_LOG: the oldest goes first.
 */
class Log {
  readonly #spans = new Map<string, Map<number, SpanContext>>();
  readonly #ids: string[] = [];
  readonly #versions: number[] = [];
  #next = 0;
  size = 0;

  remember({ originatorId, originatorVersion }: EventKey, spanContext: SpanContext): void {
    let versions = this.#spans.get(originatorId);
    if (versions === undefined) this.#spans.set(originatorId, (versions = new Map()));
    else if (versions.has(originatorVersion)) return;
    versions.set(originatorVersion, spanContext);
    if (this.#ids.length === RECORDING_LINKS_PER_LOG) this.delete(this.#ids[this.#next], this.#versions[this.#next]);
    this.#ids[this.#next] = originatorId;
    this.#versions[this.#next] = originatorVersion;
    this.#next = (this.#next + 1) % RECORDING_LINKS_PER_LOG;
    this.size += 1;
  }

  forget({ originatorId, originatorVersion }: EventKey, spanContext: SpanContext): void {
    // Its place in the ring stays, and is reused in turn.
    if (this.#spans.get(originatorId)?.get(originatorVersion) === spanContext) this.delete(originatorId, originatorVersion);
  }

  recordedBy({ originatorId, originatorVersion }: EventKey): SpanContext | undefined {
    return this.#spans.get(originatorId)?.get(originatorVersion);
  }

  private delete(originatorId: string, originatorVersion: number): void {
    const versions = this.#spans.get(originatorId);
    if (versions === undefined || !versions.delete(originatorVersion)) return;
    this.size -= 1;
    if (versions.size === 0) this.#spans.delete(originatorId);
  }
}

export const recordingLinks = new RecordingLinks();
