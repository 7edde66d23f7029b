/**
 * The PostgreSQL recorders: the shared contract in both orderings, then what is particular to
 * PostgreSQL (positions in the (txid, id) log, tracking, names, table creation races).
 * Concurrency and failure tests are in postgres-concurrency.int.test.ts. These tests need the
 * server (TEST_POSTGRES_URL, else 127.0.0.1:5432/test) and fail, never skip, without it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PostgresInfrastructureFactory,
  type PostgresInfrastructureOptions,
  type PostgresOrdering,
} from '../../src/persistence/postgres';
import {
  ConfigurationError,
  DataError,
  RecordConflictError,
  type AggregateRecorder,
  type ApplicationRecorder,
  type ProcessRecorder,
} from '../../src/persistence';
import { admin, adminClient, createSchema, dropSchema, POSTGRES_TEST_URL, uniqueSchemaName } from '../support/postgres';
import { recorderContract, RecorderHarness, stored, uniqueId } from './recorder-contract';

/** Every call opens a new factory, so a new pool and new connections, on one fresh schema. */
export class PostgresHarness implements RecorderHarness {
  readonly durable = true;
  schema = '';
  private factories: PostgresInfrastructureFactory[] = [];

  constructor(private readonly ordering: PostgresOrdering) {}

  async setUp(): Promise<void> {
    this.schema = uniqueSchemaName('t');
    await createSchema(this.schema);
  }

  async tearDown(): Promise<void> {
    await this.closeAll();
    if (this.schema) await dropSchema(this.schema);
  }

  async closeAll(): Promise<void> {
    const factories = this.factories;
    this.factories = [];
    await Promise.all(factories.map((factory) => factory.close()));
  }

  factory(applicationName: string, options: Partial<PostgresInfrastructureOptions> = {}): PostgresInfrastructureFactory {
    const factory = new PostgresInfrastructureFactory({
      applicationName,
      connectionString: POSTGRES_TEST_URL,
      schema: this.schema,
      ordering: this.ordering,
      poolSize: 2,
      ...options,
    });
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

beforeAll(async () => {
  // Fails every test of the file with a clear message when the server cannot be reached.
  await admin('SELECT 1');
});

recorderContract('postgres (watermark)', () => new PostgresHarness('watermark'));
recorderContract('postgres (lock table)', () => new PostgresHarness('lock'));

const text = (state: Uint8Array): string => Buffer.from(state).toString('utf8');

describe.each(['watermark', 'lock'] as const)('postgres (%s): particular to PostgreSQL', (ordering) => {
  const harness = new PostgresHarness(ordering);
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  it('creates the tables it needs with the documented columns, in the configured schema', async () => {
    const factory = harness.factory('Shapes');
    await factory.processRecorder().insertEvents([stored(uniqueId(), 1)], { tracking: { applicationName: 'up', previousNotificationId: 0, notificationId: 1 } });
    await factory.aggregateRecorder('snapshots').insertEvents([stored(uniqueId(), 1)]);
    const columns = await admin<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1
       ORDER BY table_name, ordinal_position`,
      [harness.schema],
    );
    const byTable = (table: string): string[] =>
      columns.filter((c) => c.table_name === table).map((c) => `${c.column_name}:${c.data_type}`);
    expect(byTable('shapes_events')).toEqual([
      'id:bigint',
      'txid:xid8',
      'pipeline_id:integer',
      'originator_id:text',
      'originator_version:bigint',
      'topic:text',
      'state:bytea',
    ]);
    expect(byTable('shapes_snapshots')).toEqual(['originator_id:text', 'originator_version:bigint', 'topic:text', 'state:bytea']);
    expect(byTable('shapes_tracking')).toEqual([
      'application_name:text',
      'pipeline_id:integer',
      'notification_id:bigint',
      'txid:xid8',
    ]);
    const indexes = await admin<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'shapes_events' ORDER BY indexname`,
      [harness.schema],
    );
    const definitions = indexes.map((i) => i.indexdef.replace(/^.* USING btree /, ''));
    expect(definitions).toEqual(expect.arrayContaining(['(originator_id, originator_version)', '(id)', '(txid, id)', '(pipeline_id, txid, id)']));
  });

  it('returns ids in the order of the events of a large write, with txid and pipeline id on each notification', async () => {
    const recorder = harness.factory('big').applicationRecorder();
    const aggregates = Array.from({ length: 20 }, () => uniqueId());
    const events = Array.from({ length: 500 }, (_, i) => stored(aggregates[i % 20], Math.floor(i / 20) + 1));
    const ids = await recorder.insertEvents(events, { pipelineId: 3 });
    expect(ids.length).toBe(500);
    expect(ids.every((id, i) => i === 0 || id === ids[i - 1] + 1)).toBe(true);
    const log = await recorder.selectNotifications(0, 1000);
    expect(log.map((n) => n.id)).toEqual(ids);
    expect(log.map((n) => `${n.originatorId}:${n.originatorVersion}`)).toEqual(events.map((e) => `${e.originatorId}:${e.originatorVersion}`));
    expect(new Set(log.map((n) => n.txid)).size).toBe(1);
    expect(log[0].txid).toMatch(/^\d+$/);
    expect(log.every((n) => n.pipelineId === 3)).toBe(true);
    expect(Buffer.isBuffer(log[0].state)).toBe(true);
    expect(typeof log[0].id).toBe('number');
  });

  it('resolves start and stop ids that no notification has (ids of refused writes)', async () => {
    const recorder = harness.factory('gaps').applicationRecorder();
    const a = uniqueId();
    const [first] = await recorder.insertEvents([stored(a, 1)]);
    // A refused write uses up ids: the next write's ids leave a gap.
    await expect(recorder.insertEvents([stored(uniqueId(), 1), stored(uniqueId(), 1), stored(a, 1)])).rejects.toThrow(
      RecordConflictError,
    );
    const [second, third] = await recorder.insertEvents([stored(uniqueId(), 1), stored(uniqueId(), 1)]);
    expect(second).toBeGreaterThan(first + 1);
    const gap = first + 1;
    expect((await recorder.selectNotifications(gap, 10)).map((n) => n.id)).toEqual([second, third]);
    expect((await recorder.selectNotifications(gap, 10, { inclusiveOfStart: false })).map((n) => n.id)).toEqual([second, third]);
    expect((await recorder.selectNotifications(1, 10, { stop: gap })).map((n) => n.id)).toEqual([first]);
    expect((await recorder.selectNotifications(first, 10, { stop: second })).map((n) => n.id)).toEqual([first, second]);
    expect(await recorder.selectNotifications(third + 100, 10)).toEqual([]);
    expect(await recorder.selectNotifications(1, 10, { stop: first - 1 })).toEqual([]);
  });

  it('moves a tracking position by compare-and-set, naming the recorded position when refused', async () => {
    const recorder = harness.factory('tracked').processRecorder();
    await recorder.insertEvents([], { tracking: { applicationName: 'up', previousNotificationId: 0, notificationId: 5 } });
    await expect(
      recorder.insertEvents([stored(uniqueId(), 1)], { tracking: { applicationName: 'up', previousNotificationId: 4, notificationId: 9 } }),
    ).rejects.toThrow(/tracking of up \(pipeline 0\) is at notification 5, not 4/);
    // Positions need not grow: compare-and-set only asks that the processing started where the record is.
    await recorder.insertEvents([], { tracking: { applicationName: 'up', previousNotificationId: 5, notificationId: 2 } });
    expect(await recorder.maxTrackingId('up')).toBe(2);
    expect((await recorder.selectNotifications(0, 10)).length).toBe(0);
    const tracked = await admin<{ notification_id: string; txid: string | null }>(
      `SELECT notification_id, txid FROM "${harness.schema}".tracked_tracking`,
    );
    expect(tracked).toEqual([{ notification_id: '2', txid: null }]);
    await expect(
      recorder.insertEvents([stored(uniqueId(), 1)], {
        pipelineId: 2 ** 31,
        tracking: { applicationName: 'up', previousNotificationId: 2, notificationId: 3 },
      }),
    ).rejects.toThrow(DataError);
    await expect(recorder.maxNotificationId(2 ** 31)).rejects.toThrow(DataError);
  });

  it('creates missing schemas and tables once, when many connections race to use them first', async () => {
    const schema = `${harness.schema}_new`;
    const factories = Array.from({ length: 8 }, () => harness.factory('racing', { schema }));
    try {
      const results = await Promise.all(
        factories.map((factory, i) =>
          factory.processRecorder().insertEvents([stored(uniqueId(`r${i}`), 1)], { tracking: { applicationName: `up${i}`, previousNotificationId: 0, notificationId: 1 } }),
        ),
      );
      expect(results.flat().length).toBe(8);
      expect((await factories[0].applicationRecorder().selectNotifications(0, 100)).length).toBe(8);
    } finally {
      await harness.closeAll();
      await dropSchema(schema);
    }
  });

  it('keeps every table name of an application quoted, lower-cased and in its schema, and refuses a name that differs only by case', async () => {
    const factory = harness.factory('MixedCase');
    const id = uniqueId();
    await factory.applicationRecorder().insertEvents([stored(id, 1)]);
    const tables = await admin<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename', [harness.schema]);
    expect(tables.map((t) => t.tablename)).toEqual(['eventsourcing_applications', 'mixedcase_events']);
    const [event] = await factory.applicationRecorder().selectEvents(id);
    expect(text(event.state)).toBe(text(stored(id, 1).state));
    // Another application whose name differs only by case would share these tables: refused.
    await expect(harness.factory('mixedcase').applicationRecorder().selectEvents(id)).rejects.toThrow(
      `PostgreSQL schema '${harness.schema}' holds the tables of application 'MixedCase' (mixedcase_events, ...): application 'mixedcase' would share them`,
    );
  });

  it('closes idempotently, and refuses calls after closing', async () => {
    const factory = harness.factory('closing');
    const recorder = factory.applicationRecorder();
    await recorder.insertEvents([stored(uniqueId(), 1)]);
    await factory.close();
    await factory.close();
    await expect(recorder.maxNotificationId()).rejects.toThrow(/closed/);
  });
});

describe('postgres (watermark): a reader told of a write', () => {
  const harness = new PostgresHarness('watermark');
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  it('waits while an older transaction holds the write back, and names the cause if it holds on too long', async () => {
    const writer = harness.factory('held').applicationRecorder();
    const reader = harness.factory('held', { visibilityTimeoutMs: 200 }).applicationRecorder();
    await writer.insertEvents([stored(uniqueId(), 1)]); // the tables exist
    const older = await adminClient();
    try {
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()'); // a transaction id older than the write's
      const [id] = await writer.insertEvents([stored(uniqueId(), 1)]);
      expect(await reader.selectNotifications(id, 1)).toEqual([]); // held back: a plain read does not show it
      await expect(reader.selectNotifications(id, 1, { waitFor: id })).rejects.toThrow(
        `selectNotifications on ${harness.schema}.held_events: notification ${id} is committed, but a transaction that began before it has kept it out of the log for more than 200 ms`,
      );
      const waiting = reader.selectNotifications(id, 1, { waitFor: id });
      await sleep(50);
      await older.query('COMMIT');
      expect((await waiting).map((notification) => notification.id)).toEqual([id]);
    } finally {
      await older.end();
    }
  });
});

describe('postgres: reads of the notification log', () => {
  const harness = new PostgresHarness('watermark');
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  it('have connections of their own: a follower reads while commands hold every connection of the pool', async () => {
    const recorder = harness.factory('busy', { poolSize: 1 }).applicationRecorder();
    const [id] = await recorder.insertEvents([stored(uniqueId(), 1)]);
    const locker = await adminClient();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${harness.schema}".busy_events IN SHARE MODE`); // blocks writes, not reads
      const write = recorder.insertEvents([stored(uniqueId(), 1)]); // holds the pool's one connection, waiting
      await sleep(50);
      expect((await recorder.selectNotifications(0, 10)).map((notification) => notification.id)).toEqual([id]);
      await locker.query('COMMIT');
      expect(await write).toHaveLength(1);
    } finally {
      await locker.end();
    }
  });
});

describe('postgres: names and options cannot carry SQL', () => {
  const before = async (): Promise<string[]> =>
    (await admin<{ nspname: string }>('SELECT nspname FROM pg_namespace ORDER BY nspname')).map((r) => r.nspname);

  it('refuses unsafe application names, schema names, purposes and options with ConfigurationError', async () => {
    const schemas = await before();
    const make = (options: Partial<PostgresInfrastructureOptions>) => () =>
      new PostgresInfrastructureFactory({ applicationName: 'safe', connectionString: POSTGRES_TEST_URL, ...options });
    const bad: Array<Partial<PostgresInfrastructureOptions>> = [
      { applicationName: 'x"; DROP TABLE pg_class; --' },
      { applicationName: "worlds' OR 1=1" },
      { applicationName: 'has space' },
      { applicationName: '' },
      { applicationName: 'a'.repeat(60) },
      { schema: 'public"; DROP SCHEMA public CASCADE; --' },
      { schema: 'public.other' },
      { schema: '' },
      { schema: 's'.repeat(64) },
      { ordering: 'fast' as PostgresOrdering },
      { poolSize: 0 },
      { connectTimeoutMs: -1 },
    ];
    for (const options of bad) expect(make(options)).toThrow(ConfigurationError);
    expect(make({ applicationName: 'x"; DROP TABLE pg_class; --' })).toThrow(/application name .* cannot name a table/);
    expect(make({ schema: 'public"; DROP' })).toThrow(/schema 'public"; DROP' is not a valid schema name/);
    const factory = new PostgresInfrastructureFactory({ applicationName: 'safe', connectionString: POSTGRES_TEST_URL });
    try {
      expect(() => factory.aggregateRecorder('snap"; DROP TABLE x; --')).toThrow(ConfigurationError);
      expect(() => factory.aggregateRecorder('events')).toThrow(ConfigurationError);
      expect(() => factory.aggregateRecorder('tracking')).toThrow(ConfigurationError);
    } finally {
      await factory.close();
    }
    expect(await before()).toEqual(schemas);
  });

  it('passes values (ids, topics, names of upstreams) as parameters, never as SQL', async () => {
    const schema = uniqueSchemaName('t');
    const factory = new PostgresInfrastructureFactory({ applicationName: 'values', connectionString: POSTGRES_TEST_URL, schema });
    try {
      const recorder = factory.processRecorder();
      const evil = `x'); DROP SCHEMA ${schema} CASCADE; --`;
      await recorder.insertEvents([stored(evil, 1, evil)], { tracking: { applicationName: evil, previousNotificationId: 0, notificationId: 1 } });
      expect((await recorder.selectEvents(evil)).map((e) => e.topic)).toEqual([evil]);
      expect((await recorder.selectNotifications(0, 10, { topics: [evil] })).length).toBe(1);
      expect(await recorder.maxTrackingId(evil)).toBe(1);
    } finally {
      await factory.close();
      await dropSchema(schema);
    }
  });
});

describe('postgres: the admin connection', () => {
  it('reaches the test server', async () => {
    const client = await adminClient();
    await client.end();
  });
});
