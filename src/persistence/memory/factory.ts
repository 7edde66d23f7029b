import type { InfrastructureFactory } from '../recorders';
import { MemoryAggregateRecorder, MemoryApplicationRecorder, MemoryProcessRecorder } from './recorders';

/** Recorders that live as long as the application object; the default persistence module. */
export class MemoryInfrastructureFactory implements InfrastructureFactory {
  aggregateRecorder(_purpose: string): MemoryAggregateRecorder {
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
