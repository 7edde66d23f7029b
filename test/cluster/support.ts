// Members of a cluster in processes of their own (member.ts), and what the tests read of the
// cluster from PostgreSQL itself.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { lockClasses } from '../../src/system/cluster/keys';
import { WorldsApplication } from '../seed-example';
import { Counters } from '../seed-example';
import { Tallies } from '../system/multiprocess/chain-system';
import { TEST_POSTGRES_URL } from '../support/stores';


export interface MemberEvent {
  readonly event: string;
  readonly at: number;
  readonly [field: string]: unknown;
}

export class MemberProcess {
  readonly events: MemberEvent[] = [];
  readonly exited: Promise<number | null>;
  #listeners: Array<() => void> = [];
  #output = '';

  private constructor(
    readonly memberId: string,
    readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => {
      this.#output += chunk;
      let newline: number;
      while ((newline = this.#output.indexOf('\n')) >= 0) {
        const line = this.#output.slice(0, newline);
        this.#output = this.#output.slice(newline + 1);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as MemberEvent);
      }
      for (const listener of this.#listeners) listener();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (process.env.CLUSTER_TEST_VERBOSE) process.stderr.write(`[${memberId}] ${chunk}`);
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Starts a member and resolves once it has joined (its first slots taken). */
  static async start(memberId: string, env: Record<string, string>, extra: Record<string, string> = {}): Promise<MemberProcess> {
    // One process (node with tsx's hooks, not the tsx command, which runs the script in a child of
    // its own): a kill reaches the member itself.
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'member.ts')], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, ...env, MEMBER_ID: memberId, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const member = new MemberProcess(memberId, child);
    await Promise.race([
      member.waitFor((event) => event.event === 'ready', 60_000),
      member.exited.then((code) => {
        throw new Error(`member ${memberId} exited with ${code} before it was ready`);
      }),
    ]);
    return member;
  }

  /** Resolves with the first event (already seen or to come) that `predicate` accepts. */
  waitFor(predicate: (event: MemberEvent) => boolean, timeoutMs = 30_000): Promise<MemberEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(predicate);
        if (found === undefined) return false;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((listener) => listener !== onData);
        resolve(found);
        return true;
      };
      const onData = () => void check();
      const timer = setTimeout(() => {
        this.#listeners = this.#listeners.filter((listener) => listener !== onData);
        reject(new Error(`member ${this.memberId}: no such event within ${timeoutMs} ms; it said: ${JSON.stringify(this.events.slice(-10))}`));
      }, timeoutMs);
      if (!check()) this.#listeners.push(onData);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Who holds each slot lock of the cluster in `schema`, from pg_locks: member ids by lock key. */
export async function slotOwners(schema: string): Promise<Map<number, string>> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    const { slots } = lockClasses(schema);
    const result = await client.query<{ key: string; member_id: string | null }>(
      `SELECT l.objid::bigint AS key, m.member_id FROM pg_locks l LEFT JOIN "${schema}".eventsourcing_cluster_members m ON m.backend_pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid::bigint = $1
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [slots],
    );
    return new Map(result.rows.map((row) => [Number(row.key), row.member_id ?? '(unknown)']));
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return new Map(); // no member has joined yet
    throw error;
  } finally {
    await client.end();
  }
}

/** How many slots each member holds. */
export function spread(owners: ReadonlyMap<number, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const member of owners.values()) counts.set(member, (counts.get(member) ?? 0) + 1);
  return counts;
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Sends `perPipeline` commands into each pipeline, each to a world of that pipeline, counting `thing-<pipeline>`. */
export async function sendCommands(env: Record<string, string>, pipelineIds: readonly number[], perPipeline: number): Promise<void> {
  await Promise.all(
    pipelineIds.map(async (pipelineId) => {
      const worlds = new WorldsApplication({ env, pipelineId });
      try {
        const id = await worlds.createWorld();
        for (let i = 0; i < perPipeline; i++) await worlds.makeItSo(id, `thing-${pipelineId}`);
      } finally {
        await worlds.close();
      }
    }),
  );
}

/** What Counters has counted of each pipeline's thing, and the Tallies' total. */
export async function counted(env: Record<string, string>, pipelineIds: readonly number[]): Promise<{ counts: number[]; tally: number }> {
  const counters = new Counters({ env });
  const tallies = new Tallies({ env });
  try {
    const counts = await Promise.all(pipelineIds.map((pipelineId) => counters.getCount(`thing-${pipelineId}`)));
    return { counts, tally: await tallies.getTally() };
  } finally {
    await Promise.all([counters.close(), tallies.close()]);
  }
}

/** A TCP proxy on loopback to PostgreSQL that can go silent: it stops forwarding without closing anything. */
export class SilentProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #silent = false;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  static async start(target = { host: '127.0.0.1', port: 5432 }): Promise<SilentProxy> {
    let proxy!: SilentProxy;
    const server = net.createServer((client) => {
      const upstream = net.connect(target);
      proxy.#sockets.add(client).add(upstream);
      const forward = (from: net.Socket, to: net.Socket) =>
        from.on('data', (chunk) => {
          if (!proxy.#silent) to.write(chunk);
        });
      forward(client, upstream);
      forward(upstream, client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    proxy = new SilentProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const { port } = this.#server.address() as net.AddressInfo;
    return TEST_POSTGRES_URL.replace(/127\.0\.0\.1:5432|localhost:5432/, `127.0.0.1:${port}`);
  }

  /** From now on nothing passes, in either direction; every connection stays open. */
  silence(): void {
    this.#silent = true;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
