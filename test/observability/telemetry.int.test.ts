// OpenTelemetry: the spans of saves, batches and policy calls, their parents and their links from
// the recording to the processing across the log, and the metrics, read with the SDK's in-memory
// exporters; and that without an SDK (or without the API) nothing is kept.
import { context, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  MultiThreadedRunner,
  PolicyError,
  RecordConflictError,
  SingleThreadedRunner,
  System,
  TELEMETRY_ATTRIBUTES as A,
  TELEMETRY_METRICS,
  TELEMETRY_SCOPE,
  type DomainEvent,
  type ProcessEvent,
} from '../../src';
import { recordingLinks } from '../../src/observability/recording-links';
import { useOtelApiForTests } from '../../src/observability/telemetry';
import { Counters, system as seedSystem, World, WorldsApplication } from '../seed-example';
import { Tallies } from '../system/multiprocess/chain-system';

const named = (name: string) => (span: ReadableSpan) => span.name === name;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const linkedTo = (span: ReadableSpan) => span.links.map((link) => link.context.spanId);

describe('with @opentelemetry/api and no SDK registered', () => {
  it('runs the seed system and keeps nothing: no span records, so no recording is remembered for links', async () => {
    const runner = new MultiThreadedRunner(seedSystem);
    await runner.start();
    try {
      const worlds = runner.get(WorldsApplication);
      const id = await worlds.createWorld();
      await worlds.makeItSo(id, 'dinosaurs');
      await runner.waitUntilIdle();
      expect(await runner.get(Counters).getCount('dinosaurs')).toBe(1);
      expect(recordingLinks.has(worlds.recorder)).toBe(false);
      expect(recordingLinks.has(runner.get(Counters).recorder)).toBe(false);
    } finally {
      await runner.stop();
    }
  });
});

describe('with the SDK registered (in-memory exporters)', () => {
  const spans = new InMemorySpanExporter();
  // Delta: each collection shows what happened since the one before (each test starts with one).
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const meterProvider = new MeterProvider({ readers: [reader] });

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
  });
  afterAll(async () => {
    await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    trace.disable();
    metrics.disable();
    context.disable();
  });
  beforeEach(async () => {
    spans.reset();
    await collect();
  });

  type Points = Array<[Record<string, unknown>, number]>;

  /** Every metric's data points since the last collection, by name, as [attributes, value]. */
  async function collect(): Promise<Record<string, Points>> {
    metricExporter.reset();
    await reader.forceFlush();
    const collected: Record<string, Points> = {};
    for (const data of metricExporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics)
      .filter((scope) => scope.scope.name === TELEMETRY_SCOPE)
      .flatMap((scope) => scope.metrics) as MetricData[]) {
      const points: Points = data.dataPoints.map((point) => [point.attributes, point.value as number]);
      if (points.length > 0) collected[data.descriptor.name] = points;
    }
    return collected;
  }

  const process = (application: string, pipelineId = 0, upstream?: string) =>
    upstream === undefined ? { [A.application]: application, [A.pipelineId]: pipelineId } : { [A.application]: application, [A.pipelineId]: pipelineId, [A.upstream]: upstream };

  it('traces the seed system on the MultiThreadedRunner: saves, batches and policy calls, each policy call the child of its batch and linked to the save that recorded its notification; and counts', async () => {
    const runner = new MultiThreadedRunner(seedSystem);
    await runner.start();
    try {
      const worlds = runner.get(WorldsApplication);
      const id = await worlds.createWorld(); // notification 1
      await worlds.makeItSo(id, 'dinosaurs'); // 2
      await worlds.makeItSo(id, 'trucks'); // 3
      await worlds.makeItSo(id, 'dinosaurs'); // 4
      await runner.waitUntilIdle();
      expect(await runner.get(Counters).getCount('dinosaurs')).toBe(2);

      const finished = spans.getFinishedSpans();
      const saves = finished.filter(named('save WorldsApplication'));
      expect(saves.map((span) => [span.kind, span.parentSpanContext, span.attributes])).toEqual(
        [1, 2, 3, 4].map((notificationId) => [
          SpanKind.PRODUCER,
          undefined,
          {
            [A.application]: 'WorldsApplication',
            [A.pipelineId]: 0,
            [A.eventsCount]: 1,
            [A.firstNotificationId]: notificationId,
            [A.lastNotificationId]: notificationId,
          },
        ]),
      );
      const saveOf = new Map(saves.map((span) => [span.attributes[A.firstNotificationId] as number, span]));

      const batches = finished.filter(named('process Counters'));
      expect(batches.length).toBeGreaterThanOrEqual(1);
      for (const batch of batches) {
        expect(batch.kind).toBe(SpanKind.CONSUMER);
        expect(batch.parentSpanContext).toBeUndefined(); // a root: the links say what caused it
        expect(batch.status.code).toBe(SpanStatusCode.UNSET);
        const first = batch.attributes[A.firstNotificationId] as number;
        const last = batch.attributes[A.lastNotificationId] as number;
        expect(batch.attributes).toEqual({
          [A.application]: 'Counters',
          [A.upstream]: 'WorldsApplication',
          [A.pipelineId]: 0,
          [A.firstNotificationId]: first,
          [A.lastNotificationId]: last,
          [A.batchCount]: last - first + 1,
          [A.batchProcessed]: last - first + 1,
        });
        // The batch links to the save of each of its notifications.
        const ids = Array.from({ length: last - first + 1 }, (_, index) => first + index);
        expect(linkedTo(batch)).toEqual(ids.map((notificationId) => idOf(saveOf.get(notificationId)!)));
      }
      expect(batches.flatMap((batch) => [batch.attributes[A.firstNotificationId], batch.attributes[A.lastNotificationId]])[0]).toBe(1);

      const policies = finished.filter(named('policy Counters'));
      expect(policies.map((span) => span.attributes[A.notificationId])).toEqual([1, 2, 3, 4]);
      for (const policy of policies) {
        const notificationId = policy.attributes[A.notificationId] as number;
        const batch = batches.find((b) => (b.attributes[A.firstNotificationId] as number) <= notificationId && notificationId <= (b.attributes[A.lastNotificationId] as number))!;
        expect(policy.parentSpanContext?.spanId).toBe(idOf(batch));
        expect(policy.spanContext().traceId).toBe(batch.spanContext().traceId);
        expect(policy.kind).toBe(SpanKind.INTERNAL);
        expect(policy.attributes).toEqual({
          [A.application]: 'Counters',
          [A.upstream]: 'WorldsApplication',
          [A.pipelineId]: 0,
          [A.notificationId]: notificationId,
          [A.topic]: notificationId === 1 ? expect.stringMatching(/World\.Created$/) : expect.stringMatching(/World\.SomethingHappened$/),
        });
        // Linked across the log: to the span of the save that recorded the notification, in another trace.
        const save = saveOf.get(notificationId)!;
        expect(policy.links.map((link) => link.context)).toEqual([save.spanContext()]);
        expect(save.spanContext().traceId).not.toBe(policy.spanContext().traceId);
      }

      // World.Created (1 event), then dinosaurs and trucks (Created + Incremented each), then dinosaurs again.
      expect(await collect()).toEqual({
        [TELEMETRY_METRICS.eventsRecorded]: [
          [process('WorldsApplication'), 4],
          [process('Counters'), 5],
        ],
        [TELEMETRY_METRICS.notificationsProcessed]: [[process('Counters', 0, 'WorldsApplication'), 4]],
        [TELEMETRY_METRICS.followerLag]: [[process('Counters', 0, 'WorldsApplication'), 0]],
      });
    } finally {
      await runner.stop();
    }
    // A stopped runner reports no lag.
    expect(await collect()).toEqual({});
  });

  it("links a follower's recordings to the policy call that saved them: its follower's policy calls link to that policy call", async () => {
    const runner = new SingleThreadedRunner(new System({ pipes: [[WorldsApplication, Counters, Tallies]] }));
    await runner.start();
    try {
      const worlds = runner.get(WorldsApplication);
      await worlds.makeItSo(await worlds.createWorld(), 'dinosaurs');
      const finished = spans.getFinishedSpans();
      const [save] = finished.filter((span) => span.name === 'save WorldsApplication' && span.attributes[A.firstNotificationId] === 2);
      const [counting] = finished.filter((span) => span.name === 'policy Counters' && span.attributes[A.notificationId] === 2);
      expect(linkedTo(counting)).toEqual([idOf(save)]);
      // Counters saved Counter.Created and Incremented (its notifications 1 and 2) in that call.
      const tallying = finished.filter(named('policy Tallies'));
      expect(tallying.map((span) => [span.attributes[A.upstream], span.attributes[A.notificationId], linkedTo(span)])).toEqual([
        ['Counters', 1, [idOf(counting)]],
        ['Counters', 2, [idOf(counting)]],
      ]);
      // The single-threaded runner processes inside the save: the batches are still roots, linked.
      const [tallyBatch] = finished.filter(named('process Tallies'));
      expect(tallyBatch.parentSpanContext).toBeUndefined();
      expect(linkedTo(tallyBatch)).toEqual([idOf(counting)]);
    } finally {
      await runner.stop();
    }
  });

  it("makes a save the child of the caller's active span, and a policy call the parent of the spans its policy starts", async () => {
    const userTracer = trace.getTracer('the user');
    class TracingCounters extends Counters {
      static override applicationName = 'TracingCounters';
      override async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
        await userTracer.startActiveSpan('user work', async (span) => {
          await super.policy(event, processEvent);
          span.end();
        });
      }
    }
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, TracingCounters]] }));
    await runner.start();
    try {
      const worlds = runner.get(WorldsApplication);
      const request = await userTracer.startActiveSpan('POST /worlds', async (span) => {
        await worlds.createWorld();
        span.end();
        return span.spanContext();
      });
      await runner.waitUntilIdle();
      const finished = spans.getFinishedSpans();
      const [save] = finished.filter(named('save WorldsApplication'));
      expect(save.parentSpanContext?.spanId).toBe(request.spanId);
      expect(save.spanContext().traceId).toBe(request.traceId);
      const [policy] = finished.filter(named('policy TracingCounters'));
      const [work] = finished.filter(named('user work'));
      expect(work.parentSpanContext?.spanId).toBe(idOf(policy));
    } finally {
      await runner.stop();
    }
  });

  it('marks failures: a policy that throws fails its span and its batch; a save that conflicts fails its span', async () => {
    let fails = true;
    class FlakyCounters extends Counters {
      static override applicationName = 'FlakyCounters';
      override async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
        if (event instanceof World.SomethingHappened && fails) {
          fails = false;
          throw new Error('not this time');
        }
        await super.policy(event, processEvent);
      }
    }
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, FlakyCounters]] }), { retryDelayMs: 1 });
    await runner.start();
    try {
      const worlds = runner.get(WorldsApplication);
      const id = await worlds.createWorld();
      await worlds.makeItSo(id, 'eventually');
      await expect(runner.waitUntilIdle()).rejects.toThrow(PolicyError);
      await runner.waitUntilIdle();
      const finished = spans.getFinishedSpans();
      const failedPolicy = finished.find((span) => span.name === 'policy FlakyCounters' && span.status.code === SpanStatusCode.ERROR)!;
      expect(failedPolicy.status.message).toBe('Error: not this time');
      expect(failedPolicy.events.map((event) => [event.name, event.attributes?.['exception.message']])).toEqual([['exception', 'not this time']]);
      const failedBatch = finished.find((span) => span.spanContext().spanId === failedPolicy.parentSpanContext?.spanId)!;
      expect(failedBatch.status).toMatchObject({ code: SpanStatusCode.ERROR, message: expect.stringMatching(/^PolicyError: FlakyCounters failed to process notification 2/) });
      expect(failedBatch.attributes[A.batchProcessed]).toBe(failedBatch.attributes[A.batchCount] === 1 ? 0 : 1);
      // Then it processed notification 2 in a later batch, and the process was restarted once.
      expect(finished.filter((span) => span.name === 'policy FlakyCounters' && span.attributes[A.notificationId] === 2).map((span) => span.status.code)).toEqual([
        SpanStatusCode.ERROR,
        SpanStatusCode.UNSET,
      ]);
      expect((await collect())[TELEMETRY_METRICS.restarts]).toEqual([[process('FlakyCounters'), 1]]);

      // Two copies of one aggregate: the second save conflicts.
      const [first, second] = await Promise.all([worlds.repository.get<World>(id), worlds.repository.get<World>(id)]);
      first.makeItSo('one');
      second.makeItSo('two');
      await worlds.save(first);
      await expect(worlds.save(second)).rejects.toThrow(RecordConflictError);
      const conflicted = spans.getFinishedSpans().filter((span) => span.name === 'save WorldsApplication' && span.status.code === SpanStatusCode.ERROR);
      expect(conflicted.map((span) => [span.status.message?.split(':')[0], span.attributes[A.firstNotificationId]])).toEqual([['RecordConflictError', undefined]]);
      // The event both saves made is linked to the one that recorded it, not to the one refused.
      await runner.waitUntilIdle();
      const recorded = spans.getFinishedSpans().find((span) => span.name === 'save WorldsApplication' && span.status.code === SpanStatusCode.UNSET && span.attributes[A.firstNotificationId] === 3)!;
      const [policy] = spans.getFinishedSpans().filter((span) => span.name === 'policy FlakyCounters' && span.attributes[A.notificationId] === 3);
      expect(linkedTo(policy)).toEqual([idOf(recorded)]);
      expect(linkedTo(policy)).not.toContain(idOf(conflicted[0]));
    } finally {
      await runner.stop();
    }
  });

  it('reports the lag of a follower that is behind, read when the metrics are collected', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class HeldCounters extends Counters {
      static override applicationName = 'HeldCounters';
      override async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
        await gate;
        await super.policy(event, processEvent);
      }
    }
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, HeldCounters]] }));
    await runner.start();
    try {
      const worlds = runner.get(WorldsApplication);
      const id = await worlds.createWorld();
      await worlds.makeItSo(id, 'a');
      await worlds.makeItSo(id, 'b');
      expect((await collect())[TELEMETRY_METRICS.followerLag]).toEqual([[process('HeldCounters', 0, 'WorldsApplication'), 3]]);
      release();
      await runner.waitUntilIdle();
      expect((await collect())[TELEMETRY_METRICS.followerLag]).toEqual([[process('HeldCounters', 0, 'WorldsApplication'), 0]]);
    } finally {
      release();
      await runner.stop();
    }
  });

  it('does nothing when @opentelemetry/api is not installed, though an SDK is registered', async () => {
    useOtelApiForTests(null);
    try {
      const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, Counters]] }));
      await runner.start();
      const worlds = runner.get(WorldsApplication);
      await worlds.makeItSo(await worlds.createWorld(), 'untraced');
      await runner.waitUntilIdle();
      expect(await runner.get(Counters).getCount('untraced')).toBe(1);
      await runner.stop();
      expect(spans.getFinishedSpans()).toEqual([]);
    } finally {
      useOtelApiForTests(undefined);
    }
  });
});
