// Run in the consumer that installed @opentelemetry/api and an SDK (see check.sh): the package loads
// the consumer's own copy of the API, so the SDK registered here sees its spans. Prints, as JSON, the
// names of the spans and whether the follower's policy calls are linked to the saves they process.
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Aggregate, AggregateCreated, Application, ProcessApplication, register, SingleThreadedRunner, System } from 'eventsourcing-nact';

class Note extends Aggregate {
  static Written = class Written extends AggregateCreated<Note> {};
}
register(Note);

class Notes extends Application {
  async write(): Promise<void> {
    await this.save(Note._create(Note.Written, {}));
  }
}

class Readers extends ProcessApplication {}

async function main(): Promise<void> {
  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  const runner = new SingleThreadedRunner(new System({ pipes: [[Notes, Readers]] }), { env: { PERSISTENCE: 'memory' } });
  await runner.start();
  try {
    await runner.get(Notes).write();
    await runner.get(Notes).write();
  } finally {
    await runner.stop();
  }
  const spans = exporter.getFinishedSpans();
  const saves = new Set(spans.filter((span) => span.name === 'save Notes').map((span) => span.spanContext().spanId));
  const policies = spans.filter((span) => span.name === 'policy Readers');
  console.log(
    JSON.stringify({
      names: [...new Set(spans.map((span) => span.name))].sort(),
      linked: policies.length === 2 && policies.every((span) => span.links.some((link) => saves.has(link.context.spanId))),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
