// Load benchmark: the HTTP example (ActorRunner, commands by `ask`) under 1, 8 and 64 concurrent
// keep-alive clients, each posting to a world of its own for a fixed time, beside a plain Node
// server in the same window that does one INSERT per request (PostgreSQL through a pool of the
// same size; SQLite through one better-sqlite3 connection). Requests per second, median and 99th
// percentile latency, and the totals checked afterwards.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { v4 as uuid4 } from 'uuid';
import { fmt, POSTGRES_URL, table, temporaryDirectory, withSchema } from '../support';

const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 5);
const CLIENTS = (process.env.BENCH_LOAD_CLIENTS ?? '1,8,64').split(',').map(Number);
const STORES = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',').filter((store) => store === 'sqlite' || store === 'postgres');
const ROOT = join(__dirname, '..', '..');
const TARGETS = {
  example: join(ROOT, 'examples', 'http', 'server.ts'),
  plain: join(__dirname, 'plain-server.ts'),
} as const;
type Target = keyof typeof TARGETS;

interface Answer {
  readonly status: number;
  readonly body: any;
}

function request(agent: http.Agent, url: URL, method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { agent, host: url.hostname, port: url.port, method, path, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Starts a server in a process of its own; resolves with it and its address once it listens. */
function startServer(target: Target, env: Record<string, string>): Promise<{ child: ChildProcess; url: URL }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', TARGETS[target]], {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        resolve({ child, url: new URL(match[1]) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    child.on('exit', (code) => reject(new Error(`${target} server exited with ${code} before listening: ${output}`)));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Result {
  readonly requests: number;
  readonly failures: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly exact: string;
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function measure(target: Target, clients: number, env: Record<string, string>): Promise<Result> {
  const { child, url } = await startServer(target, env);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  try {
    const worlds: string[] = [];
    for (let i = 0; i < clients; i++) {
      worlds.push(target === 'example' ? (await request(agent, url, 'POST', '/worlds')).body.id : uuid4());
    }
    const posted = new Array<number>(clients).fill(0);
    const latencies: number[] = [];
    let failures = 0;
    const deadline = performance.now() + SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      worlds.map(async (id, client) => {
        while (performance.now() < deadline) {
          const began = performance.now();
          const answer = await request(agent, url, 'POST', `/worlds/${id}/things`, { what: 'load' });
          if (answer.status === 202) {
            posted[client] += 1;
            latencies.push(performance.now() - began);
          } else {
            failures += 1;
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const total = posted.reduce((a, b) => a + b, 0);
    latencies.sort((a, b) => a - b);
    return { requests: total, failures, perSecond: total / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), exact: await totals(target, agent, url, worlds, posted) };
  } finally {
    agent.destroy();
    await stopServer(child);
  }
}

/** Whether what the store holds afterwards is exactly what was answered as recorded. */
async function totals(target: Target, agent: http.Agent, url: URL, worlds: readonly string[], posted: readonly number[]): Promise<string> {
  const total = posted.reduce((a, b) => a + b, 0);
  if (target === 'plain') {
    const { count } = (await request(agent, url, 'GET', '/count')).body;
    return count === total ? 'exact' : `${count} rows for ${total}`;
  }
  for (let i = 0; i < worlds.length; i++) {
    const { history } = (await request(agent, url, 'GET', `/worlds/${worlds[i]}/history`)).body;
    if (history.length !== posted[i]) return `world ${i}: ${history.length} for ${posted[i]}`;
  }
  // Counters counts soon after: wait until it has caught up.
  for (let waited = 0; ; waited += 50) {
    const { count } = (await request(agent, url, 'GET', '/counts/load')).body;
    if (count === total) return 'exact';
    if (waited > 60_000) return `counted ${count} for ${total}`;
    await sleep(50);
  }
}

export async function loadBenchmark(): Promise<void> {
  const rows: string[][] = [];
  for (const store of STORES) {
    for (const clients of CLIENTS) {
      for (const target of ['example', 'plain'] as const) {
        const result = await withStore(store, (env) => measure(target, clients, env));
        rows.push([
          store,
          String(clients),
          target === 'example' ? 'the HTTP example' : 'plain server, one INSERT',
          `${fmt(result.perSecond)}/s`,
          `${fmt(result.p50, 1)} ms`,
          `${fmt(result.p99, 1)} ms`,
          `${fmt(result.requests)}${result.failures ? ` (${result.failures} failed)` : ''}`,
          result.exact,
        ]);
      }
    }
  }
  console.log(`\nLoad: concurrent keep-alive clients, each posting to its own world for ${SECONDS} s (plain servers: one INSERT per request)\n`);
  table(['store', 'clients', 'target', 'requests', 'p50', 'p99', 'answered', 'totals'], rows);
}

async function withStore<T>(store: string, body: (env: Record<string, string>) => Promise<T>): Promise<T> {
  if (store === 'sqlite') {
    const directory = temporaryDirectory();
    try {
      return await body({ PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(directory.path, 'load.sqlite') });
    } finally {
      directory.remove();
    }
  }
  return withSchema((schema) => body({ PERSISTENCE: 'postgres', POSTGRES_URL, POSTGRES_SCHEMA: schema, POSTGRES_POOL_SIZE: '5' }));
}
