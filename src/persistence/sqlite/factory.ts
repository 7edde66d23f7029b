import { checkAggregatePurpose, tableName } from '../names';
import type { InfrastructureFactory } from '../recorders';
import { SqliteAggregateRecorder } from './aggregate-recorder';
import { SqliteApplicationRecorder } from './application-recorder';
import { SqliteConnection } from './connection';
import { ResolvedSqliteOptions, resolveSqliteOptions, SqliteInfrastructureOptions } from './options';
import { SqliteProcessRecorder } from './process-recorder';

/**
 * The SQLite persistence module: one connection per factory, opened by the constructor (WAL,
 * `synchronous`, busy timeout) and shared by every recorder the factory makes; close() closes it.
 * Opening a file that cannot be opened raises OperationalError naming it; an application whose
 * tables the file holds for another application (a name that differs only by case) is refused.
 */
export class SqliteInfrastructureFactory implements InfrastructureFactory {
  readonly options: ResolvedSqliteOptions;
  private readonly connection: SqliteConnection;

  constructor(options: SqliteInfrastructureOptions) {
    this.options = resolveSqliteOptions(options);
    this.connection = new SqliteConnection(this.options);
    try {
      this.connection.claimTables(this.options.applicationName);
    } catch (error) {
      this.connection.close();
      throw error;
    }
  }

  get applicationName(): string {
    return this.options.applicationName;
  }

  get dbName(): string {
    return this.options.dbName;
  }

  /** Whether close() has not been called yet. */
  get isOpen(): boolean {
    return this.connection.isOpen;
  }

  /** Events of aggregates in `<application>_<purpose>` (the purposes: 'snapshots'). */
  aggregateRecorder(purpose: string): SqliteAggregateRecorder {
    return new SqliteAggregateRecorder(this.connection, tableName(this.applicationName, checkAggregatePurpose(this.applicationName, purpose)));
  }

  applicationRecorder(): SqliteApplicationRecorder {
    return new SqliteApplicationRecorder(this.connection, this.applicationName);
  }

  processRecorder(): SqliteProcessRecorder {
    return new SqliteProcessRecorder(this.connection, this.applicationName);
  }

  /** Closes the connection: the recorders made by this factory reject from now on. Closing twice is harmless. */
  async close(): Promise<void> {
    this.connection.close();
  }
}
