import type { InfrastructureFactory } from '../recorders';
import { PostgresDatastore } from './datastore';
import { resolveOptions, type PostgresInfrastructureOptions, type ResolvedPostgresOptions } from './options';
import { PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresProcessRecorder } from './recorders';
import { aggregateTable, applicationTables } from './tables';

/**
 * Recorders of one application on PostgreSQL, sharing one connection pool. Nothing connects
 * until the first operation; tables are created on first use. `close()` ends the pool.
 */
export class PostgresInfrastructureFactory implements InfrastructureFactory {
  readonly options: ResolvedPostgresOptions;
  private readonly datastore: PostgresDatastore;

  constructor(options: PostgresInfrastructureOptions) {
    this.options = resolveOptions(options);
    this.datastore = new PostgresDatastore(this.options);
  }

  aggregateRecorder(purpose: string): PostgresAggregateRecorder {
    return new PostgresAggregateRecorder(this.datastore, aggregateTable(this.options.schema, this.options.applicationName, purpose));
  }

  applicationRecorder(): PostgresApplicationRecorder {
    return new PostgresApplicationRecorder(this.datastore, applicationTables(this.options.schema, this.options.applicationName));
  }

  processRecorder(): PostgresProcessRecorder {
    return new PostgresProcessRecorder(this.datastore, applicationTables(this.options.schema, this.options.applicationName));
  }

  /** Ends the pool (idempotent). Recorders made by this factory can no longer be used. */
  close(): Promise<void> {
    return this.datastore.close();
  }
}
