/**
 * PostgreSQL under real concurrency (many pools, out-of-order commits) and failure (connections
 * killed, servers unreachable or silent). Needs the server; fails, never skips, without it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Client } from 'pg';
import {
  PostgresInfrastructureFactory,
  type PostgresInfrastructureOptions,
  type PostgresOrdering,
} from '../../src/persistence/postgres';
import { OperationalError, TrackingConflictError, type Notification, type StoredEvent } from '../../src/persistence';
import { admin, adminClient, createSchema, dropSchema, POSTGRES_TEST_URL, uniqueSchemaName } from '../support/postgres';
import { stored, uniqueId } from './recorder-contract';


/** Settles to 'pending' if the promise has not settled within `ms`. */
async function stateAfter(promise: Promise<unknown>, ms: number): Promise<'pending' | 'fulfilled' | 'rejected'> {
  return Promise.race([
    promise.then(
      () => 'fulfilled' as const,
      () => 'rejected' as const,
    ),
    sleep(ms).then(() => 'pending' as const),
  ]);
}

const bodyOf = (n: StoredEvent): string => JSON.parse(Buffer.from(n.state).toString('utf8')).body;

let schema = '';
let factories: PostgresInfrastructureFactory[] = [];

function factory(applicationName: string, options: Partial<PostgresInfrastructureOptions> = {}): PostgresInfrastructureFactory {
  const made = new PostgresInfrastructureFactory({
    applicationName,
    connectionString: POSTGRES_TEST_URL,
    schema,
    poolSize: 1,
    ...options,
  });
  factories.push(made);
  return made;
}

beforeEach(async () => {
  schema = uniqueSchemaName('t');
  await createSchema(schema);
});

afterEach(async () => {
  const opened = factories;
  factories = [];
  await Promise.all(opened.map((f) => f.close()));
  await dropSchema(schema);
});

describe.each(['watermark', 'lock'] as const)('postgres (%s): many writers, one tailing reader', (ordering: PostgresOrdering) => {
  it('shows the tail every event exactly once, each transaction’s events together, as a re-read shows them', async () => {
    const writers = 8;
    const writesPerWriter = 30;
    const reader = factory('busy', { ordering }).applicationRecorder();
    await reader.maxNotificationId(); // creates the table before the race
    const writerRecorders = Array.from({ length: writers }, () => factory('busy', { ordering }).applicationRecorder());

    // Each writer owns three aggregates; each write appends 1-2 events to 1-2 of them.
    const written: string[][] = [];
    let total = 0;
    const plans = writerRecorders.map((_, w) => {
      const aggregates = [uniqueId(`w${w}a`), uniqueId(`w${w}b`), uniqueId(`w${w}c`)];
      const versions = [0, 0, 0];
      return Array.from({ length: writesPerWriter }, (_, t) => {
        const touched = t % 3 === 0 ? [t % 3, (t + 1) % 3] : [t % 3];
        const events: StoredEvent[] = [];
        for (const a of touched) {
          for (let k = 0; k < 1 + (t % 2); k++) {
            versions[a] += 1;
            events.push(stored(aggregates[a], versions[a], 'Busy', `w${w}t${t}#${events.length}`));
          }
        }
        total += events.length;
        written.push(events.map(bodyOf));
        return events;
      });
    });

    const seen: Notification[] = [];
    let writing = true;
    const deadline = Date.now() + 20_000;
    const tail = (async () => {
      let position = 0;
      while (seen.length < total || writing) {
        if (Date.now() > deadline) throw new Error(`tail saw ${seen.length} of ${total} events`);
        const page = await reader.selectNotifications(position, 10, { inclusiveOfStart: false });
        if (page.length === 0) {
          if (!writing && seen.length >= total) break;
          await sleep(1);
          continue;
        }
        seen.push(...page);
        position = page[page.length - 1].id;
      }
    })();
    await Promise.all(
      writerRecorders.map(async (recorder, w) => {
        for (const events of plans[w]) await recorder.insertEvents(events);
      }),
    ).finally(() => {
      writing = false;
    });
    await tail;

    expect(seen.length).toBe(total);
    expect(new Set(seen.map((n) => n.id)).size).toBe(total);
    // Every write's events are adjacent, in the order they were written.
    const bodies = seen.map(bodyOf);
    for (const write of written) {
      const at = bodies.indexOf(write[0]);
      expect(bodies.slice(at, at + write.length)).toEqual(write);
    }
    // Each aggregate's events appear in version order.
    const lastVersion = new Map<string, number>();
    for (const n of seen) {
      expect(n.originatorVersion).toBe((lastVersion.get(n.originatorId) ?? 0) + 1);
      lastVersion.set(n.originatorId, n.originatorVersion);
    }
    // The tail saw the log as a re-read shows it, and in log order.
    const log = await reader.selectNotifications(0, total + 10);
    expect(log.map((n) => n.id)).toEqual(seen.map((n) => n.id));
    const key = (n: Notification): [bigint, number] => [BigInt(n.txid!), n.id];
    for (let i = 1; i < seen.length; i++) {
      const [t0, i0] = key(seen[i - 1]);
      const [t1, i1] = key(seen[i]);
      expect(t0 < t1 || (t0 === t1 && i0 < i1)).toBe(true);
      if (ordering === 'lock') expect(i0 < i1).toBe(true);
    }
    expect(await reader.maxNotificationId()).toBe(seen[seen.length - 1].id);
  });
});

describe.each(['watermark', 'lock'] as const)('postgres (%s): processors racing for one position', (ordering: PostgresOrdering) => {
  it('lets exactly one of eight processors (eight pools) move the tracking position each round', async () => {
    const processors = Array.from({ length: 8 }, () => factory('racers', { ordering }).processRecorder());
    await processors[0].maxTrackingId('up'); // creates the tables before the race
    let position = 0;
    const winners: string[] = [];
    for (let round = 0; round < 10; round++) {
      const results = await Promise.allSettled(
        processors.map((recorder, w) =>
          recorder.insertEvents([stored(uniqueId(`r${round}w${w}`), 1, 'Won', `r${round}w${w}`)], {
            tracking: { applicationName: 'up', previousNotificationId: position, notificationId: position + w + 1 },
          }),
        ),
      );
      const won = results.flatMap((r, w) => (r.status === 'fulfilled' ? [w] : []));
      expect(won.length).toBe(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(TrackingConflictError);
      }
      winners.push(`r${round}w${won[0]}`);
      position += won[0] + 1;
      expect(await processors[7].maxTrackingId('up')).toBe(position);
    }
    const log = await processors[0].selectNotifications(0, 100);
    expect(log.map(bodyOf)).toEqual(winners);
  });
});

describe('postgres: commits out of id order', () => {
  /** Inserts one event as the recorders do, in `client`'s open transaction. */
  async function insertRaw(client: Client, table: string, originatorId: string): Promise<{ id: number; txid: string }> {
    const { rows } = await client.query<{ id: string; txid: string }>(
      `INSERT INTO "${schema}"."${table}" (originator_id, originator_version, topic, state)
       VALUES ($1, 1, 'Raw', $2) RETURNING id, txid::text AS txid`,
      [originatorId, stored(originatorId, 1).state],
    );
    return { id: Number(rows[0].id), txid: rows[0].txid };
  }

  it('watermark: a transaction that commits after a later one is not skipped by a tailing reader', async () => {
    const writer = factory('ooo').applicationRecorder();
    const impatient = factory('ooo', { watermarkWaitMs: 0 }).applicationRecorder();
    const patient = factory('ooo').applicationRecorder(); // waits (250 ms by default) for older transactions
    const [start] = await writer.insertEvents([stored(uniqueId('first'), 1)]);
    const a = uniqueId('A');
    const b = uniqueId('B');
    const transactionA = await adminClient();
    try {
      await transactionA.query('BEGIN');
      const rowA = await insertRaw(transactionA, 'ooo_events', a);
      const [idB] = await writer.insertEvents([stored(b, 1)]); // B commits while A is open
      expect(idB).toBeGreaterThan(rowA.id);

      // A reader by id would see B now, move past A's id, and never see A.
      const byId = await admin<{ id: string }>(`SELECT id FROM "${schema}".ooo_events WHERE id > $1 ORDER BY id`, [start]);
      expect(byId.map((r) => Number(r.id))).toEqual([idB]);
      // The watermark holds B back while A is open.
      expect(await impatient.selectNotifications(start, 10, { inclusiveOfStart: false })).toEqual([]);
      expect(await impatient.maxNotificationId()).toBe(start);

      // A patient reader waits for A (still well within its wait) and gets both.
      const waiting = patient.selectNotifications(start, 10, { inclusiveOfStart: false });
      expect(await stateAfter(waiting, 40)).toBe('pending');
      await transactionA.query('COMMIT');
      expect((await waiting).map((n) => n.originatorId)).toEqual([a, b]);
    } finally {
      await transactionA.end();
    }
    const tail = await impatient.selectNotifications(start, 10, { inclusiveOfStart: false });
    expect(tail.map((n) => n.originatorId)).toEqual([a, b]);
    expect(await impatient.maxNotificationId()).toBe(tail[1].id);
  });

  it('watermark: the log follows transaction order even where ids go the other way', async () => {
    const writer = factory('txorder').applicationRecorder();
    const reader = factory('txorder', { watermarkWaitMs: 0 }).applicationRecorder();
    const [start] = await writer.insertEvents([stored(uniqueId('first'), 1)]);
    const a = uniqueId('A');
    const b = uniqueId('B');
    const transactionA = await adminClient();
    let rowA: { id: number; txid: string };
    let idB: number;
    try {
      await transactionA.query('BEGIN');
      await transactionA.query('SELECT pg_current_xact_id()'); // A gets its txid first...
      [idB] = await writer.insertEvents([stored(b, 1)]); // ...B takes an id and commits...
      rowA = await insertRaw(transactionA, 'txorder_events', a); // ...then A takes a greater id.
      await transactionA.query('COMMIT');
    } finally {
      await transactionA.end();
    }
    expect(rowA.id).toBeGreaterThan(idB);
    const log = await reader.selectNotifications(start, 10, { inclusiveOfStart: false });
    expect(log.map((n) => [n.originatorId, n.id])).toEqual([
      [a, rowA.id],
      [b, idB],
    ]);
    expect(BigInt(log[0].txid!)).toBeLessThan(BigInt(log[1].txid!));
    // Positions are resolved by id to (txid, id): after B is the end; after A comes B.
    expect(await reader.selectNotifications(idB, 10, { inclusiveOfStart: false })).toEqual([]);
    expect((await reader.selectNotifications(rowA.id, 10, { inclusiveOfStart: false })).map((n) => n.id)).toEqual([idB]);
    expect((await reader.selectNotifications(start, 10, { stop: rowA.id })).map((n) => n.id)).toEqual([start, rowA.id]);
    expect(await reader.maxNotificationId()).toBe(idB);
  });

  it('lock: a writer waits for the table lock, so ids follow commit order', async () => {
    const writer = factory('locked', { ordering: 'lock' }).applicationRecorder();
    const reader = factory('locked', { ordering: 'lock' }).applicationRecorder();
    const [start] = await writer.insertEvents([stored(uniqueId('first'), 1)]);
    const a = uniqueId('A');
    const b = uniqueId('B');
    const transactionA = await adminClient();
    let writeB: Promise<number[]>;
    try {
      await transactionA.query('BEGIN');
      await transactionA.query(`LOCK TABLE "${schema}".locked_events IN EXCLUSIVE MODE`);
      await insertRaw(transactionA, 'locked_events', a);
      writeB = writer.insertEvents([stored(b, 1)]);
      expect(await stateAfter(writeB, 60)).toBe('pending');
      // Readers are not blocked by the lock; they see neither write yet.
      expect(await reader.selectNotifications(start, 10, { inclusiveOfStart: false })).toEqual([]);
      await transactionA.query('COMMIT');
    } finally {
      await transactionA.end();
    }
    const [idB] = await writeB;
    const log = await reader.selectNotifications(start, 10, { inclusiveOfStart: false });
    expect(log.map((n) => n.originatorId)).toEqual([a, b]);
    expect(log[1].id).toBe(idB);
    expect(log[0].id).toBeLessThan(idB);
  });
});

describe('postgres: the database going away', () => {
  const appName = (name: string) => `${POSTGRES_TEST_URL}${POSTGRES_TEST_URL.includes('?') ? '&' : '?'}application_name=${name}`;

  async function terminate(applicationName: string): Promise<number> {
    const rows = await admin<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
       WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()`,
      [applicationName],
    );
    return rows.filter((r) => r.terminated).length;
  }

  /** Calls `operation` until it succeeds, allowing OperationalErrors only (and at most `tries`). */
  async function eventually<T>(tries: number, operation: () => Promise<T>): Promise<{ value: T; failures: number }> {
    for (let failures = 0; ; failures++) {
      try {
        return { value: await operation(), failures };
      } catch (error) {
        expect(error).toBeInstanceOf(OperationalError);
        if (failures + 1 >= tries) throw error;
        await sleep(20);
      }
    }
  }

  it('fails the call in flight with OperationalError and recovers on later calls, keeping committed data', async () => {
    const connectionName = `es_gone_${process.pid}`;
    const made = factory('gone', { connectionString: appName(connectionName), poolSize: 2 });
    const recorder = made.processRecorder();
    const kept = uniqueId('kept');
    await recorder.insertEvents([stored(kept, 1), stored(kept, 2)], { tracking: { applicationName: 'up', previousNotificationId: 0, notificationId: 7 } });

    // Hold the table so that the next write waits inside its transaction, then kill the pool's connections.
    const blocker = await adminClient();
    const lost = uniqueId('lost');
    let inFlight: Promise<number[]>;
    try {
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE "${schema}".gone_events IN ACCESS EXCLUSIVE MODE`);
      inFlight = recorder.insertEvents([stored(lost, 1)], { tracking: { applicationName: 'up', previousNotificationId: 7, notificationId: 8 } });
      for (let i = 0; ; i++) {
        const waiting = await admin(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [connectionName],
        );
        if (waiting.length > 0) break;
        if (i > 200) throw new Error('the write never waited for the lock');
        await sleep(5);
      }
      expect(await terminate(connectionName)).toBeGreaterThanOrEqual(1);
      await blocker.query('ROLLBACK');
    } finally {
      await blocker.end();
    }
    const failure = await inFlight.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OperationalError);
    expect((failure as Error).message).toMatch(/insertEvents on .*gone_events: PostgreSQL connection failed/);

    // The pool reconnects; what was committed is there, the failed write is not.
    const { value: events } = await eventually(3, () => recorder.selectEvents(kept));
    expect(events.map((e) => e.originatorVersion)).toEqual([1, 2]);
    expect(await recorder.selectEvents(lost)).toEqual([]);
    expect(await recorder.maxTrackingId('up')).toBe(7);

    // Idle connections killed between calls: the pool drops them (no crash), later calls work.
    await recorder.maxNotificationId();
    expect(await terminate(connectionName)).toBeGreaterThanOrEqual(1);
    await sleep(50);
    const { value: ids } = await eventually(3, () =>
      recorder.insertEvents([stored(lost, 1)], { tracking: { applicationName: 'up', previousNotificationId: 7, notificationId: 8 } }),
    );
    expect(ids.length).toBe(1);
    expect(await recorder.maxTrackingId('up')).toBe(8);
    expect((await recorder.selectNotifications(0, 10)).map((n) => n.originatorId)).toEqual([kept, kept, lost]);
  });

  it('gives OperationalError quickly for a port nobody listens on, a database that does not exist, a silent server', async () => {
    const timed = async (f: PostgresInfrastructureFactory): Promise<{ error: unknown; ms: number }> => {
      const began = Date.now();
      const error = await f.applicationRecorder().maxNotificationId().catch((e: unknown) => e);
      return { error, ms: Date.now() - began };
    };

    const refused = await timed(factory('nowhere', { connectionString: 'postgres://postgres@127.0.0.1:1/test', connectTimeoutMs: 1000 }));
    expect(refused.error).toBeInstanceOf(OperationalError);
    expect((refused.error as Error).message).toMatch(/PostgreSQL connection failed.*ECONNREFUSED/);
    expect(refused.ms).toBeLessThan(1500);

    const url = new URL(POSTGRES_TEST_URL);
    url.pathname = '/no_such_database_here';
    const missing = await timed(factory('nodb', { connectionString: url.toString(), connectTimeoutMs: 1000 }));
    expect(missing.error).toBeInstanceOf(OperationalError);
    expect((missing.error as Error).message).toMatch(/does not exist/);

    // A server that accepts connections and never answers: only the timeout ends the wait.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const hung = await timed(factory('silent', { connectionString: `postgres://postgres@127.0.0.1:${port}/test`, connectTimeoutMs: 300 }));
      expect(hung.error).toBeInstanceOf(OperationalError);
      expect((hung.error as Error).message).toMatch(/PostgreSQL connection failed.*timeout/i);
      expect(hung.ms).toBeGreaterThanOrEqual(250);
      expect(hung.ms).toBeLessThan(1500);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
