import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AggregateRecorder, ApplicationRecorder, ProcessRecorder } from '../../src/persistence/recorders';
import { SqliteInfrastructureFactory, SqliteInfrastructureOptions } from '../../src/persistence/sqlite';
import type { RecorderHarness } from './recorder-contract';

/** A fresh temporary directory per test; removed by `removeTempDir`. */
export function makeTempDir(prefix = 'sqlite-recorders-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeTempDir(dir: string | undefined): void {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
}

/** A database file in a new temporary directory per test; every harness call opens a new connection. */
export class SqliteHarness implements RecorderHarness {
  readonly durable = true;
  private dir?: string;
  private factories: SqliteInfrastructureFactory[] = [];

  constructor(private readonly settings: Partial<SqliteInfrastructureOptions> = {}) {}

  get dbName(): string {
    if (this.dir === undefined) throw new Error('SqliteHarness: setUp() was not called');
    return path.join(this.dir, 'events.db');
  }

  async setUp(): Promise<void> {
    this.dir = makeTempDir();
    this.factories = [];
  }

  async tearDown(): Promise<void> {
    await this.closeAll();
    removeTempDir(this.dir);
    this.dir = undefined;
  }

  async closeAll(): Promise<void> {
    const factories = this.factories;
    this.factories = [];
    await Promise.all(factories.map((factory) => factory.close()));
  }

  factory(applicationName: string): SqliteInfrastructureFactory {
    const factory = new SqliteInfrastructureFactory({ ...this.settings, applicationName, dbName: this.dbName });
    this.factories.push(factory);
    return factory;
  }

  async aggregateRecorder(applicationName: string): Promise<AggregateRecorder> {
    return this.factory(applicationName).aggregateRecorder('snapshots');
  }

  async applicationRecorder(applicationName: string): Promise<ApplicationRecorder> {
    return this.factory(applicationName).applicationRecorder();
  }

  async processRecorder(applicationName: string): Promise<ProcessRecorder> {
    return this.factory(applicationName).processRecorder();
  }
}
