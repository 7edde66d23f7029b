// A reader of a store's tables with its own connection, as any SQL client would read them.
import BetterSqlite3 from 'better-sqlite3';
import { Client } from 'pg';

export interface SqlReader {
  /** The rows of one query (names unqualified: the reader looks in the store's schema). */
  all<R>(sql: string): Promise<R[]>;
  close(): Promise<void>;
}

export async function openSqlReader(env: Record<string, string>): Promise<SqlReader> {
  if (env.PERSISTENCE === 'sqlite') {
    const db = new BetterSqlite3(env.SQLITE_DBNAME, { readonly: true, timeout: 5000 });
    return { all: async <R>(sql: string) => db.prepare(sql).all() as R[], close: async () => void db.close() };
  }
  const client = new Client({ connectionString: env.POSTGRES_URL });
  await client.connect();
  await client.query(`SET search_path TO "${env.POSTGRES_SCHEMA}"`);
  return { all: async <R>(sql: string) => (await client.query(sql)).rows as R[], close: () => client.end() };
}
