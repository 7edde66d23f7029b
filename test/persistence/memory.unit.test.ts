import { MemoryInfrastructureFactory } from '../../src/persistence/memory';
import type { AggregateRecorder, ApplicationRecorder, ProcessRecorder } from '../../src/persistence';
import { recorderContract, RecorderHarness } from './recorder-contract';

class MemoryHarness implements RecorderHarness {
  readonly durable = false;
  private recorders = new Map<string, AggregateRecorder>();
  private readonly factory = new MemoryInfrastructureFactory();

  async setUp(): Promise<void> {
    this.recorders = new Map();
  }

  async tearDown(): Promise<void> {
    this.recorders.clear();
  }

  async closeAll(): Promise<void> {}

  private shared<R extends AggregateRecorder>(key: string, make: () => R): R {
    let recorder = this.recorders.get(key);
    if (recorder === undefined) {
      recorder = make();
      this.recorders.set(key, recorder);
    }
    return recorder as R;
  }

  async aggregateRecorder(name: string): Promise<AggregateRecorder> {
    return this.shared(`aggregate:${name}`, () => this.factory.aggregateRecorder('snapshots'));
  }

  async applicationRecorder(name: string): Promise<ApplicationRecorder> {
    return this.shared(`application:${name}`, () => this.factory.applicationRecorder());
  }

  async processRecorder(name: string): Promise<ProcessRecorder> {
    return this.shared(`process:${name}`, () => this.factory.processRecorder());
  }
}

recorderContract('memory', () => new MemoryHarness());
