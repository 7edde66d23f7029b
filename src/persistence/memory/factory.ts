import { checkAggregatePurpose } from '../names';
import type { InfrastructureFactory } from '../recorders';
import { MemoryAggregateRecorder, MemoryApplicationRecorder, MemoryProcessRecorder } from './recorders';

/** Recorders that live as long as the application object; the default persistence module. */
export class MemoryInfrastructureFactory implements InfrastructureFactory {
  /** `applicationName` names the application in errors. */
  constructor(readonly options: { readonly applicationName?: string } = {}) {}

  aggregateRecorder(purpose: string): MemoryAggregateRecorder {
    checkAggregatePurpose(this.options.applicationName ?? 'the application', purpose);
    return new MemoryAggregateRecorder();
  }

  applicationRecorder(): MemoryApplicationRecorder {
    return new MemoryApplicationRecorder();
  }

  processRecorder(): MemoryProcessRecorder {
    return new MemoryProcessRecorder();
  }

  async close(): Promise<void> {}
}
