// The plain server the load benchmark compares the HTTP example with: Node's own http module, one
// INSERT per POST /worlds/:id/things, through a pg pool of the example's size (PostgreSQL) or one
// better-sqlite3 connection (SQLite), with the same durability settings as the library's. Prints
// `listening on URL` when ready; GET /count answers how many rows were written.
import Database from 'better-sqlite3';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';

type Insert = (id: string, what: string) => Promise<void> | void;

function store(): { insert: Insert; count(): Promise<number> | number; close(): Promise<void> | void } {
  if (process.env.PERSISTENCE === 'postgres') {
    const schema = process.env.POSTGRES_SCHEMA!;
    const pool = new Pool({ connectionString: process.env.POSTGRES_URL, max: Number(process.env.POSTGRES_POOL_SIZE ?? 5) });
    const table = `"${schema}".plain`;
    const ready = pool.query(`CREATE TABLE IF NOT EXISTS ${table} (id BIGINT GENERATED ALWAYS AS IDENTITY, world TEXT NOT NULL, what TEXT NOT NULL)`);
    return {
      insert: async (id, what) => {
        await ready;
        await pool.query({ name: 'plain-insert', text: `INSERT INTO ${table} (world, what) VALUES ($1, $2)`, values: [id, what] });
      },
      count: async () => Number((await pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n),
      close: () => pool.end(),
    };
  }
  const db = new Database(process.env.SQLITE_DBNAME!);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE IF NOT EXISTS plain (id INTEGER PRIMARY KEY, world TEXT NOT NULL, what TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO plain (world, what) VALUES (?, ?)');
  const count = db.prepare('SELECT count(*) FROM plain').pluck();
  return { insert: (id, what) => void insert.run(id, what), count: () => count.get() as number, close: () => void db.close() };
}

const backend = store();
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    try {
      const match = /^\/worlds\/([^/]+)\/things$/.exec(req.url ?? '');
      if (req.method === 'POST' && match) {
        const { what } = JSON.parse(Buffer.concat(chunks).toString());
        await backend.insert(match[1], what);
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: match[1], what }));
      } else if (req.method === 'GET' && req.url === '/count') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: await backend.count() }));
      } else {
        res.writeHead(404).end();
      }
    } catch (error) {
      res.writeHead(500).end(JSON.stringify({ error: (error as Error).message }));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => server.close(async () => {
  await backend.close();
  process.exit(0);
}));
