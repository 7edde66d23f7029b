import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** The PostgreSQL server tests use: TEST_POSTGRES_URL, else the local server's `test` database. */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh, empty store for applications, described by the env that selects it. */
export interface StoreSetup {
  readonly name: 'memory' | 'sqlite' | 'postgres';
  readonly durable: boolean;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  env(): Record<string, string>;
}

export function memoryStore(): StoreSetup {
  return {
    name: 'memory',
    durable: false,
    setUp: async () => {},
    tearDown: async () => {},
    env: () => ({ PERSISTENCE: 'memory' }),
  };
}

export function sqliteStore(): StoreSetup {
  let directory: string | undefined;
  return {
    name: 'sqlite',
    durable: true,
    setUp: async () => {
      directory = mkdtempSync(join(tmpdir(), 'es-test-'));
    },
    tearDown: async () => {
      if (directory) rmSync(directory, { recursive: true, force: true });
      directory = undefined;
    },
    env: () => ({ PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(directory!, 'store.sqlite') }),
  };
}

/** Runs one statement on the test server, failing clearly when it cannot be reached. */
export async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is needed for these tests and cannot be reached at ${TEST_POSTGRES_URL}: ${(error as Error).message}`,
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export function postgresStore(): StoreSetup {
  let schema: string | undefined;
  return {
    name: 'postgres',
    durable: true,
    setUp: async () => {
      schema = `t_app_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
      await adminQuery(`CREATE SCHEMA "${schema}"`);
    },
    tearDown: async () => {
      if (schema) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      schema = undefined;
    },
    env: () => ({ PERSISTENCE: 'postgres', POSTGRES_URL: TEST_POSTGRES_URL, POSTGRES_SCHEMA: schema! }),
  };
}

export const ALL_STORES: ReadonlyArray<() => StoreSetup> = [memoryStore, sqliteStore, postgresStore];
