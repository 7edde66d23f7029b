// What tracing costs, end to end: the seed workload (WorldsApplication → Counters, each command
// awaited, until Counters has processed the last) three ways in one run, alternating, in rounds:
//   none:   as if @opentelemetry/api were not installed (the package loads nothing);
//   noop:   the API installed, no SDK registered (the API's no-op spans and instruments);
//   memory: the SDK registered as an application would (AsyncLocalStorage context manager, a
//           BatchSpanProcessor into the in-memory span exporter, a meter provider read every
//           second into the in-memory metric exporter).
// Then Application.save alone (one new aggregate per call, in memory), with no API beside the API
// and no SDK, in alternating blocks: the cost of a save's span when nothing records it.
// BENCH_COMMANDS (default 10,000) per run, BENCH_TRACING_ROUNDS (default 5) rounds, the runners
// and stores of BENCH_TRACING_RUNNERS and BENCH_TRACING_STORES (default multi-threaded,
// single-threaded; memory, sqlite).
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { join } from 'node:path';
import { useOtelApiForTests } from '../src/observability/telemetry';
import { World, WorldsApplication } from '../examples/worlds/domain';
import { fmt, rates, table, temporaryDirectory } from './support';
import { endToEnd, type RunnerKind } from './system';

const MODES = ['none', 'noop', 'memory'] as const;
type Mode = (typeof MODES)[number];
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_TRACING_ROUNDS ?? 5);
const list = (variable: string, fallback: string[]) => (process.env[variable]?.split(',').map((item) => item.trim()).filter(Boolean) ?? fallback);
const RUNNERS = list('BENCH_TRACING_RUNNERS', ['multi-threaded', 'single-threaded']) as RunnerKind[];
const STORES = list('BENCH_TRACING_STORES', ['memory', 'sqlite']);

/** Sets the process up for `mode`; the returned function undoes it and says how many spans were exported. */
async function enter(mode: Mode): Promise<() => Promise<number>> {
  if (mode === 'none') {
    useOtelApiForTests(null);
    return async () => {
      useOtelApiForTests(undefined);
      return 0;
    };
  }
  useOtelApiForTests(undefined); // the API, with whatever is registered now
  if (mode === 'noop') return async () => 0;
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spans)] });
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 1000 })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return async () => {
    await tracerProvider.forceFlush();
    const exported = spans.getFinishedSpans().length;
    await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    trace.disable();
    metrics.disable();
    context.disable();
    useOtelApiForTests(undefined);
    return exported;
  };
}

interface Tally {
  seconds: number;
  commands: number;
  spans: number;
}

export async function tracingBenchmark(): Promise<void> {
  const rows: string[][] = [];
  const directory = temporaryDirectory();
  let files = 0;
  const envOf = (store: string): Record<string, string> =>
    store === 'memory' ? { PERSISTENCE: 'memory' } : { PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(directory.path, `tracing-${++files}.sqlite`) };
  const run = async (kind: RunnerKind, store: string, mode: Mode, tally?: Tally) => {
    const leave = await enter(mode);
    let spans = 0;
    try {
      const { commandsPerSecond } = await endToEnd(kind, envOf(store));
      if (tally !== undefined) {
        tally.seconds += COMMANDS / commandsPerSecond;
        tally.commands += COMMANDS;
      }
    } finally {
      spans = await leave();
    }
    if (tally !== undefined) tally.spans += spans;
  };
  try {
    for (const store of STORES) {
      for (const kind of RUNNERS) {
        for (const mode of MODES) await run(kind, store, mode); // warm-up
        const tallies = new Map<Mode, Tally>(MODES.map((mode) => [mode, { seconds: 0, commands: 0, spans: 0 }]));
        for (let round = 0; round < ROUNDS; round++) {
          // Each round starts with another mode, so that none always runs after the same one.
          for (let index = 0; index < MODES.length; index++) {
            const mode = MODES[(index + round) % MODES.length];
            await run(kind, store, mode, tallies.get(mode));
          }
        }
        const rate = (mode: Mode) => tallies.get(mode)!.commands / tallies.get(mode)!.seconds;
        for (const mode of MODES) {
          const tally = tallies.get(mode)!;
          rows.push([
            `${store}, ${kind}`,
            mode,
            `${fmt(rate(mode))} cmd/s`,
            `${((rate(mode) / rate('none')) * 100).toFixed(1)}%`,
            mode === 'memory' ? fmt(tally.spans / tally.commands, 2) : '',
          ]);
        }
      }
    }
  } finally {
    directory.remove();
  }
  const saves = await saveWithoutSdk();
  console.log(`\nTracing overhead, end to end: ${fmt(COMMANDS)} commands (each awaited) until Counters has processed the last,`);
  console.log(`${ROUNDS} rounds of the three modes in turn (the first of each round rotates), after a warm-up run of each\n`);
  table(['store, runner', 'tracing', 'throughput', 'of none', 'spans/command'], rows);
  console.log(`\nApplication.save of one new aggregate, in memory, ${fmt(SAVES)} calls each in alternating blocks of ${fmt(SAVE_BLOCK)}\n`);
  const extra = 1e9 / saves.ours - 1e9 / saves.bare;
  table(['tracing', 'saves/s', 'of none', 'time per save'], [
    ['none', `${fmt(saves.bare)} /s`, '100.0%', `${fmt(1e9 / saves.bare)} ns`],
    ['noop', `${fmt(saves.ours)} /s`, `${((saves.ours / saves.bare) * 100).toFixed(1)}%`, `${fmt(1e9 / saves.ours)} ns (${extra >= 0 ? '+' : '-'}${fmt(Math.abs(extra))} ns)`],
  ]);
}

const SAVES = 200_000;
const SAVE_BLOCK = 5_000;

/** Saves per second of an application made without the API (`bare`) and of one made with it and no SDK (`ours`). */
async function saveWithoutSdk(): Promise<{ ours: number; bare: number }> {
  const env = { PERSISTENCE: 'memory', AGGREGATE_CACHE_MAXSIZE: '0' };
  useOtelApiForTests(null);
  const none = new WorldsApplication({ env });
  useOtelApiForTests(undefined);
  const noop = new WorldsApplication({ env });
  try {
    for (const app of [none, noop]) for (let i = 0; i < SAVE_BLOCK; i++) await app.save(World.create()); // warm-up
    return await rates(SAVES, SAVE_BLOCK, () => noop.save(World.create()), () => none.save(World.create()));
  } finally {
    await Promise.all([none.close(), noop.close()]);
  }
}
