import type { Client, ClientConfig, Notification } from 'pg';
import { ConfigurationError, OperationalError } from '../../persistence';
import { quoteIdentifier } from '../../persistence/names';
import { requireOptionalPeer } from '../../persistence/peers';
import { shapeDifference, type SystemShape } from '../system-shape';
import type { LockClasses } from './keys';

/** A member as PostgreSQL shows it. */
export interface MemberRow {
  readonly memberId: string;
  readonly host: string;
  readonly pid: number;
}

/** One heartbeat's reading of the cluster: the live members, and who holds each slot lock (by key). */
export interface Reading {
  readonly members: readonly MemberRow[];
  readonly slotHolders: ReadonlyMap<number, MemberRow>;
}

export interface LockConnectionOptions {
  readonly url: string | undefined;
  readonly schema: string;
  readonly classes: LockClasses;
  readonly memberId: string;
  readonly memberKey: number;
  readonly host: string;
  readonly pid: number;
  readonly pipelineIds: readonly number[];
  /** The system's applications and pipes (members of one cluster must run the same). */
  readonly shape: SystemShape;
  /** How long one statement may take before the connection is taken for dead. */
  readonly statementTimeoutMs: number;
  /** The server ends this session when it stays silent this long (idle_session_timeout). */
  readonly idleSessionTimeoutMs: number;
  readonly channel: string;
  readonly onNotification: (payload: string) => void;
  /** The connection broke (an error, or its end): the member must stop processing at once. */
  readonly onLost: (error: Error) => void;
}

/** Serialises the cluster tables' DDL across members (an arbitrary, fixed key). */
const DDL_LOCK = 'SELECT pg_advisory_xact_lock(7202505131742661002)';

/**
 * A member's own PostgreSQL session, outside any pool and never inside a transaction once joined:
 * it holds the member's lock (its membership) and the lock of every slot it owns, beats the
 * heartbeat, and LISTENs for prompts. PostgreSQL releases every lock of a session that ends, and
 * ends a session that stays silent for `idleSessionTimeoutMs`, so a member that dies or is cut off
 * gives its slots up by itself.
 */
export class LockConnection {
  readonly #client: Client;
  readonly #members: string;
  readonly #cluster: string;
  #lost = false;
  /** The session's statements, one at a time (heartbeats, locks and NOTIFYs come from different tasks). */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: LockConnectionOptions,
    client: Client,
  ) {
    this.#client = client;
    const schema = quoteIdentifier(options.schema);
    this.#members = `${schema}.eventsourcing_cluster_members`;
    this.#cluster = `${schema}.eventsourcing_cluster`;
  }

  /** Connects, creates the cluster's tables if need be, checks the system, and takes the member lock. */
  static async open(options: LockConnectionOptions): Promise<LockConnection> {
    const pg = requireOptionalPeer<typeof import('pg')>('pg', 'a cluster member (cluster: PostgreSQL)');
    const config: ClientConfig = {
      connectionString: options.url,
      keepAlive: true,
      query_timeout: options.statementTimeoutMs,
      connectionTimeoutMillis: options.statementTimeoutMs,
      application_name: `eventsourcing member ${options.memberId}`.slice(0, 63),
    };
    const client = new pg.Client(config);
    const connection = new LockConnection(options, client);
    try {
      await client.connect();
    } catch (error) {
      throw new OperationalError(`a cluster member cannot reach PostgreSQL${options.url ? ` at ${redact(options.url)}` : ''}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    client.on('error', (error) => connection.lose(error));
    client.on('end', () => connection.lose(new OperationalError('the connection ended')));
    client.on('notification', (message: Notification) => {
      if (message.channel === options.channel && message.payload !== undefined) options.onNotification(message.payload);
    });
    try {
      await connection.join();
    } catch (error) {
      connection.close();
      throw error;
    }
    return connection;
  }

  get lost(): boolean {
    return this.#lost;
  }

  private async join(): Promise<void> {
    const { options } = this;
    const client = this.#client;
    await client.query(`SET idle_session_timeout = ${Math.round(options.idleSessionTimeoutMs)}`);
    const backendPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    try {
      await client.query('BEGIN');
      await client.query(DDL_LOCK);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(options.schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.#members} (member_id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, ` +
          `backend_pid INTEGER NOT NULL, lock_key BIGINT NOT NULL, pipelines INTEGER[] NOT NULL, ` +
          `joined_at TIMESTAMPTZ NOT NULL DEFAULT now(), heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      );
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.#cluster} (id INTEGER PRIMARY KEY CHECK (id = 1), shape JSONB NOT NULL)`);
      await client.query(`INSERT INTO ${this.#cluster} (id, shape) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, [JSON.stringify(options.shape)]);
      const shape = (await client.query<{ shape: SystemShape }>(`SELECT shape FROM ${this.#cluster} WHERE id = 1`)).rows[0].shape;
      await client.query('COMMIT');
      const difference = shapeDifference(shape, options.shape, "the cluster's");
      if (difference !== undefined) {
        throw new ConfigurationError(`this member's system differs from the cluster's in schema ${options.schema}: ${difference}`);
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof ConfigurationError) throw error;
      throw new OperationalError(`a cluster member cannot create or read its tables in schema ${options.schema}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const taken = (await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS taken', [options.classes.members, options.memberKey])).rows[0]
      .taken;
    if (!taken) throw new ConfigurationError(`another live member of the cluster in schema ${options.schema} has the id ${options.memberId}`);
    // Behind a pooler that hands each transaction another server session (PgBouncer in transaction
    // mode), the lock would stay behind on a session this member no longer talks to.
    const held = (
      await client.query<{ held: number }>(
        `SELECT count(*)::int AS held FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND granted ` +
          `AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2`,
        [options.classes.members, options.memberKey],
      )
    ).rows[0].held;
    if (held !== 1 || (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid !== backendPid) {
      throw new ConfigurationError(
        'a cluster member holds its locks on a session of its own, and this connection does not keep one: ' +
          'is it behind a pooler in transaction mode (PgBouncer)? Connect members to PostgreSQL directly, or through session pooling',
      );
    }
    await client.query(
      `INSERT INTO ${this.#members} (member_id, host, pid, backend_pid, lock_key, pipelines) VALUES ($1, $2, $3, $4, $5, $6) ` +
        `ON CONFLICT (member_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, backend_pid = EXCLUDED.backend_pid, ` +
        `lock_key = EXCLUDED.lock_key, pipelines = EXCLUDED.pipelines, joined_at = now(), heartbeat_at = now()`,
      [options.memberId, options.host, options.pid, backendPid, options.memberKey, options.pipelineIds],
    );
    await client.query(`LISTEN ${quoteIdentifier(options.channel)}`);
  }

  /** Runs `statement` after those before it. */
  private serial<T>(statement: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(statement, statement);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** The heartbeat: one round trip that marks this member alive and reads the live members and the slot locks. */
  async beat(): Promise<Reading> {
    const { classes, memberId } = this.options;
    const result = await this.serial(() => this.#client.query<ReadingRow>(readingSql(this.#members, true), [classes.members, classes.slots, memberId]));
    if (!result.rows.some((row) => row.kind === 'beat')) throw new OperationalError(`this member's row (${memberId}) is gone from ${this.#members}`);
    return readingOf(result.rows);
  }

  /** Takes a slot's lock if nobody holds it. */
  async tryLock(key: number): Promise<boolean> {
    const result = await this.serial(() =>
      this.#client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS taken', [this.options.classes.slots, key]),
    );
    return result.rows[0].taken;
  }

  async unlock(key: number): Promise<void> {
    await this.serial(() => this.#client.query('SELECT pg_advisory_unlock($1, $2)', [this.options.classes.slots, key]));
  }

  /** Prompts the members that follow what was recorded (sent after the write committed, never in it). */
  async notify(payload: string): Promise<void> {
    await this.serial(() => this.#client.query('SELECT pg_notify($1, $2)', [this.options.channel, payload]));
  }

  /** Ends the session (its locks go with it); never throws. */
  close(): void {
    this.#lost = true;
    this.#client.removeAllListeners('end');
    this.#client.removeAllListeners('error');
    this.#client.on('error', () => undefined);
    // end() waits for the server, which may be unreachable: the socket is cut as well.
    void this.#client.end().catch(() => undefined);
    (this.#client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }

  private lose(error: Error): void {
    if (this.#lost) return;
    this.#lost = true;
    this.options.onLost(error);
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

interface ReadingRow {
  kind: string;
  member_id: string | null;
  host: string | null;
  pid: number | null;
  key: string | null;
}

/**
 * The live members (each holding its member lock on the session it registered) and the holders of
 * the slot locks, from pg_locks; with `beat`, the member ($3) marks itself alive in the same trip.
 */
function readingSql(members: string, beat: boolean): string {
  return `WITH ${beat ? `beat AS (UPDATE ${members} SET heartbeat_at = now() WHERE member_id = $3 RETURNING 1),` : ''}
     locks AS (
       SELECT classid::bigint AS class, objid::bigint AS key, pid FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint IN ($1, $2)
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
     )
     SELECT 'member' AS kind, m.member_id, m.host, m.pid, NULL::text AS key
       FROM ${members} m JOIN locks l ON l.class = $1 AND l.key = m.lock_key AND l.pid = m.backend_pid
     UNION ALL
     SELECT 'slot', m.member_id, m.host, m.pid, l.key::text
       FROM locks l LEFT JOIN ${members} m ON m.backend_pid = l.pid
       WHERE l.class = $2
     ${beat ? `UNION ALL SELECT 'beat', NULL, NULL, NULL, NULL FROM beat` : ''}`;
}

function readingOf(rows: readonly ReadingRow[]): Reading {
  const members: MemberRow[] = [];
  const slotHolders = new Map<number, MemberRow>();
  for (const row of rows) {
    if (row.kind === 'member') members.push({ memberId: row.member_id!, host: row.host!, pid: row.pid! });
    else if (row.kind === 'slot' && row.member_id !== null) slotHolders.set(Number(row.key), { memberId: row.member_id, host: row.host!, pid: row.pid! });
  }
  return { members, slotHolders };
}

/** The cluster in `schema` as PostgreSQL shows it now, read by a session of its own that joins nothing (for status). */
export async function readCluster(url: string | undefined, schema: string, classes: LockClasses): Promise<Reading> {
  const pg = requireOptionalPeer<typeof import('pg')>('pg', 'reading a cluster (PostgreSQL)');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new OperationalError(`cannot reach PostgreSQL${url ? ` at ${redact(url)}` : ''} to read the cluster: ${(error as Error).message}`, { cause: error });
  }
  try {
    const result = await client.query<ReadingRow>(readingSql(`${quoteIdentifier(schema)}.eventsourcing_cluster_members`, false), [classes.members, classes.slots]);
    return readingOf(result.rows);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return { members: [], slotHolders: new Map() }; // no member ever joined
    throw new OperationalError(`cannot read the cluster in schema ${schema}: ${(error as Error).message}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}
