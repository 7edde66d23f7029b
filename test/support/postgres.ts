/**
 * Helpers for tests that need the PostgreSQL server: an admin connection that fails with a clear
 * message when the server cannot be reached (tests never skip), and throwaway schemas.
 */
import { Client } from 'pg';

/** TEST_POSTGRES_URL, else the local server's `test` database. */
export const POSTGRES_TEST_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** An open admin client; throws a clear error when PostgreSQL cannot be reached. */
export async function adminClient(): Promise<Client> {
  const client = new Client({ connectionString: POSTGRES_TEST_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is needed for these tests and cannot be reached at ${POSTGRES_TEST_URL} ` +
        `(start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start): ` +
        `${(error as Error).message}`,
    );
  }
  return client;
}

/** Runs statements on a fresh admin connection. */
export async function admin<R extends Record<string, unknown> = Record<string, unknown>>(
  sql: string,
  values?: unknown[],
): Promise<R[]> {
  const client = await adminClient();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** A schema name no other test (or process) uses. */
export function uniqueSchemaName(prefix = 't'): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
}

export async function createSchema(schema: string): Promise<void> {
  await admin(`CREATE SCHEMA "${schema}"`);
}

export async function dropSchema(schema: string): Promise<void> {
  await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
