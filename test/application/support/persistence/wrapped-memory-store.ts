// A persistence module that a user brings (PERSISTENCE=<the path of this file>): the memory store,
// wrapped so that tests can see that it was used, by which application, with which settings, and
// that the application closed it.
import {
  AggregateRecorder,
  ApplicationRecorder,
  Environment,
  InfrastructureFactory,
  MemoryInfrastructureFactory,
  ProcessRecorder,
} from '../../../../src';

export interface Made {
  readonly applicationName: string;
  /** The setting WRAPPED_LABEL, read as any store reads its settings (prefixed or not). */
  readonly label: string | undefined;
  readonly recorders: string[];
  closed: boolean;
}

/** Every factory this module made, in order. */
export const made: Made[] = [];

class WrappedMemoryFactory implements InfrastructureFactory {
  private readonly inner: MemoryInfrastructureFactory;

  constructor(private readonly record: Made) {
    this.inner = new MemoryInfrastructureFactory({ applicationName: record.applicationName });
  }

  aggregateRecorder(purpose: string): AggregateRecorder {
    this.record.recorders.push(`aggregate:${purpose}`);
    return this.inner.aggregateRecorder(purpose);
  }

  applicationRecorder(): ApplicationRecorder {
    this.record.recorders.push('application');
    return this.inner.applicationRecorder();
  }

  processRecorder(): ProcessRecorder {
    this.record.recorders.push('process');
    return this.inner.processRecorder();
  }

  async close(): Promise<void> {
    this.record.closed = true;
    await this.inner.close();
  }
}

export function infrastructureFactory(env: Environment): InfrastructureFactory {
  const record: Made = { applicationName: env.applicationName, label: env.get('WRAPPED_LABEL'), recorders: [], closed: false };
  made.push(record);
  return new WrappedMemoryFactory(record);
}
