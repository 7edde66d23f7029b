import type { SpanContext } from './telemetry';

/** How many events of each log keep the span that recorded them. */
export const RECORDING_LINKS_PER_LOG = 10_000;

/** An event as a log knows it: unique in its log. */
export interface EventKey {
  readonly originatorId: string;
  readonly originatorVersion: number;
}

const keyOf = (event: EventKey) => `${event.originatorVersion}:${event.originatorId}`;

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
  readonly #logs = new WeakMap<object, Map<string, SpanContext>>();

  /** Remembers that `spanContext` records `event` (unless a span already does). */
  remember(recorder: object, event: EventKey, spanContext: SpanContext): void {
    let spans = this.#logs.get(recorder);
    if (spans === undefined) this.#logs.set(recorder, (spans = new Map()));
    const key = keyOf(event);
    if (spans.has(key)) return;
    spans.set(key, spanContext);
    if (spans.size > RECORDING_LINKS_PER_LOG) spans.delete(spans.keys().next().value!);
  }

  /** The write of `event` by `spanContext` failed: forgets it (if that span is the one remembered). */
  forget(recorder: object, event: EventKey, spanContext: SpanContext): void {
    const spans = this.#logs.get(recorder);
    const key = keyOf(event);
    if (spans?.get(key) === spanContext) spans.delete(key);
  }

  /** Whether any event of the log is remembered (if none, no notification of it needs looking up). */
  has(recorder: object): boolean {
    return (this.#logs.get(recorder)?.size ?? 0) > 0;
  }

  /** The span that recorded `event` in the log, if it is remembered. */
  recordedBy(recorder: object, event: EventKey): SpanContext | undefined {
    return this.#logs.get(recorder)?.get(keyOf(event));
  }
}

export const recordingLinks = new RecordingLinks();
