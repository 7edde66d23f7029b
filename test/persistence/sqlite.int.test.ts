import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import Database from 'better-sqlite3';
import {
  ConfigurationError,
  OperationalError,
  RecordConflictError,
  TrackingConflictError,
} from '../../src/persistence/errors';
import { SqliteConnection, SqliteInfrastructureFactory } from '../../src/persistence/sqlite';
import { isUniqueViolation, mapSqliteError } from '../../src/persistence/sqlite/errors';
import { recorderContract, stored, uniqueId } from './recorder-contract';
import { makeTempDir, removeTempDir, SqliteHarness } from './sqlite-harness';

recorderContract('sqlite', () => new SqliteHarness());

describe('sqlite recorders: the module’s own behaviour', () => {
  let dir: string;
  let dbName: string;
  const factories: SqliteInfrastructureFactory[] = [];
  const open = (applicationName: string, options: { busyTimeoutMs?: number; dbName?: string } = {}) => {
    const factory = new SqliteInfrastructureFactory({ applicationName, dbName, ...options });
    factories.push(factory);
    return factory;
  };

  beforeEach(() => {
    dir = makeTempDir();
    dbName = path.join(dir, 'events.db');
  });

  afterEach(async () => {
    await Promise.all(factories.splice(0).map((factory) => factory.close()));
    removeTempDir(dir);
  });

  it('works on a private in-memory database (one connection, shared by the factory’s recorders)', async () => {
    const factory = open('inmemory', { dbName: ':memory:' });
    const recorder = factory.processRecorder();
    const reader = factory.applicationRecorder();
    const id = uniqueId();
    const ids = await recorder.insertEvents([stored(id, 1), stored(id, 2)], {
      tracking: { applicationName: 'up', notificationId: 1, previousNotificationId: 0 },
    });
    expect(ids).toEqual([1, 2]);
    expect((await reader.selectNotifications(0, 10)).map((n) => n.id)).toEqual([1, 2]);
    expect(await recorder.maxTrackingId('up')).toBe(1);
    await expect(recorder.insertEvents([], { tracking: { applicationName: 'up', notificationId: 1, previousNotificationId: 0 } })).rejects.toThrow(
      TrackingConflictError,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('creates the tables it needs, in WAL mode, with quoted lower-case names', async () => {
    const factory = open('Worlds');
    factory.processRecorder();
    factory.aggregateRecorder('snapshots');
    const inspector = new Database(dbName, { readonly: true });
    try {
      const tables = inspector
        .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual(['eventsourcing_applications', 'worlds_events', 'worlds_events_pipeline_idx', 'worlds_snapshots', 'worlds_tracking']);
      expect(inspector.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      inspector.close();
    }
  });

  it('returns notification ids as numbers and state as Buffers, and numbers ids on after a restart', async () => {
    const first = open('numbers');
    const id = uniqueId();
    expect(await first.applicationRecorder().insertEvents([stored(id, 1), stored(id, 2)], { pipelineId: 3 })).toEqual([1, 2]);
    await first.close();
    const recorder = open('numbers').applicationRecorder();
    expect(await recorder.insertEvents([stored(id, 3)])).toEqual([3]);
    const [notification] = await recorder.selectNotifications(1, 1);
    expect(notification).toEqual({
      id: 1,
      originatorId: id,
      originatorVersion: 1,
      topic: 'Test.Event',
      state: Buffer.from(stored(id, 1).state),
      pipelineId: 3,
    });
    expect(Buffer.isBuffer(notification.state)).toBe(true);
    expect(await recorder.maxNotificationId(3)).toBe(2);
  });

  it('names the aggregate and version in a RecordConflictError', async () => {
    const recorder = open('named').aggregateRecorder('snapshots');
    await recorder.insertEvents([stored('agg-x', 1)]);
    const write = recorder.insertEvents([stored('agg-x', 2), stored('agg-x', 1)]);
    await expect(write).rejects.toThrow(RecordConflictError);
    await expect(write).rejects.toThrow('version 1 of aggregate agg-x is already recorded');
    expect((await recorder.selectEvents('agg-x')).length).toBe(1);
  });

  it('names the operation and table in a RecordConflictError, as PostgreSQL does', async () => {
    const factory = open('Named');
    await expect(factory.aggregateRecorder('snapshots').insertEvents([stored('agg-y', 1), stored('agg-y', 1)])).rejects.toThrow(
      'insertEvents on named_snapshots: version 1 of aggregate agg-y is already recorded',
    );
    const events = factory.applicationRecorder();
    await events.insertEvents([stored('agg-z', 1)]);
    await expect(events.insertEvents([stored('agg-z', 1)])).rejects.toThrow('insertEvents on named_events: version 1 of aggregate agg-z is already recorded');
  });

  it('raises OperationalError naming the path when the directory does not exist', () => {
    const missing = path.join(dir, 'no', 'such', 'dir', 'events.db');
    expect(() => open('missing', { dbName: missing })).toThrow(OperationalError);
    expect(() => open('missing', { dbName: missing })).toThrow(missing);
  });

  it('raises OperationalError naming the path when the file is not a database', () => {
    const garbage = path.join(dir, 'garbage.db');
    fs.writeFileSync(garbage, 'not a database '.repeat(100));
    let error: unknown;
    try {
      open('garbage', { dbName: garbage });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OperationalError);
    expect((error as Error).message).toContain(garbage);
  });

  it('rejects calls of a closed factory’s recorders with a clear OperationalError', async () => {
    const factory = open('closing');
    const recorder = factory.processRecorder();
    await recorder.insertEvents([stored(uniqueId(), 1)]);
    await factory.close();
    await factory.close(); // harmless
    expect(factory.isOpen).toBe(false);
    const closed = expect.objectContaining({ name: 'OperationalError', message: expect.stringContaining(`'${dbName}' is closed`) });
    await expect(recorder.insertEvents([stored(uniqueId(), 1)])).rejects.toEqual(closed);
    await expect(recorder.selectEvents('any')).rejects.toEqual(closed);
    await expect(recorder.selectNotifications(0, 10)).rejects.toEqual(closed);
    await expect(recorder.maxNotificationId()).rejects.toEqual(closed);
    await expect(recorder.maxTrackingId('up')).rejects.toEqual(closed);
    expect(() => factory.applicationRecorder()).toThrow(OperationalError);
  });

  it('shares one connection among the factories of one file in a thread, and closes it with the last of them', async () => {
    const before = SqliteConnection.openFileConnections();
    const writer = open('shared_a');
    const reader = open('shared_b');
    expect(SqliteConnection.openFileConnections()).toBe(before + 1);
    const other = open('shared_c', { dbName: path.join(dir, 'other.db') });
    expect(SqliteConnection.openFileConnections()).toBe(before + 2);
    // Each factory still has its own tables, and sees what the others wrote.
    const id = uniqueId();
    await writer.applicationRecorder().insertEvents([stored(id, 1)]);
    await expect(reader.applicationRecorder().selectNotifications(0, 10)).resolves.toEqual([]);
    const shared = open('shared_a').applicationRecorder();
    expect((await shared.selectEvents(id)).map((event) => event.originatorVersion)).toEqual([1]);
    // Closing one factory closes only its own recorders.
    await writer.close();
    expect(() => writer.applicationRecorder()).toThrow(OperationalError);
    expect(await shared.insertEvents([stored(id, 2)])).toEqual([2]);
    expect(await reader.applicationRecorder().maxNotificationId()).toBe(0);
    await Promise.all(factories.map((factory) => factory.close()));
    expect(SqliteConnection.openFileConnections()).toBe(before);
    expect(other.isOpen).toBe(false);
  });

  it('closes a recorder alone without closing the factory’s connection', async () => {
    const factory = open('one_closed');
    const closing = factory.applicationRecorder();
    const staying = factory.applicationRecorder();
    await closing.close();
    await closing.close();
    await expect(closing.maxNotificationId()).rejects.toThrow(OperationalError);
    expect(await staying.insertEvents([stored(uniqueId(), 1)])).toEqual([1]);
  });

  it('waits busyTimeoutMs for another connection’s write lock, then raises OperationalError and writes nothing', async () => {
    const recorder = open('locked', { busyTimeoutMs: 50 }).applicationRecorder();
    const blocker = new Database(dbName);
    try {
      blocker.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      const write = recorder.insertEvents([stored(uniqueId(), 1)]);
      await expect(write).rejects.toThrow(OperationalError);
      await expect(write).rejects.toThrow(/locked by another connection.*busyTimeoutMs=50/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(40);
      blocker.exec('ROLLBACK');
    } finally {
      blocker.close();
    }
    expect(await recorder.maxNotificationId()).toBe(0);
    expect(await recorder.insertEvents([stored(uniqueId(), 1)])).toEqual([1]);
  });

  it('recognises SQLite errors made in another realm (the native addon keeps the first realm’s SqliteError)', () => {
    const foreign = (code: string) =>
      vm.runInNewContext(`Object.assign(new Error('from elsewhere'), { code: ${JSON.stringify(code)} })`) as unknown;
    expect(foreign('SQLITE_BUSY') instanceof Error).toBe(false);
    expect(isUniqueViolation(foreign('SQLITE_CONSTRAINT_UNIQUE'))).toBe(true);
    expect(isUniqueViolation(foreign('SQLITE_CONSTRAINT_NOTNULL'))).toBe(false);
    const context = { file: 'x.db', action: 'testing', busyTimeoutMs: 1 };
    expect(mapSqliteError(foreign('SQLITE_BUSY'), context)).toBeInstanceOf(OperationalError);
    expect(mapSqliteError(foreign('SQLITE_IOERR_WRITE'), context)).toBeInstanceOf(OperationalError);
  });

  it('refuses bad configuration with ConfigurationError naming the setting', () => {
    const make = (options: object) => () =>
      new SqliteInfrastructureFactory({ applicationName: 'ok', dbName, ...options } as never);
    expect(make({ applicationName: 'x"; DROP TABLE y; --' })).toThrow(ConfigurationError);
    expect(make({ applicationName: '' })).toThrow(ConfigurationError);
    expect(make({ dbName: '' })).toThrow(/dbName/);
    expect(make({ synchronous: 'SOMETIMES' })).toThrow(/synchronous/);
    expect(make({ busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
    expect(make({ busyTimeoutMs: 1.5 })).toThrow(ConfigurationError);
    const factory = open('purposes');
    expect(() => factory.aggregateRecorder('events')).toThrow(ConfigurationError);
    expect(() => factory.aggregateRecorder('tracking')).toThrow(ConfigurationError);
    expect(() => factory.aggregateRecorder('bad purpose')).toThrow(ConfigurationError);
    expect(fs.existsSync(dbName)).toBe(true); // only the factory that was valid opened the file
  });

  it('accepts every synchronous level', async () => {
    for (const synchronous of ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const) {
      const factory = new SqliteInfrastructureFactory({ applicationName: 'sync', dbName, synchronous });
      factories.push(factory);
      await factory.applicationRecorder().insertEvents([stored(uniqueId(), 1)]);
    }
    expect(await open('sync').applicationRecorder().maxNotificationId()).toBe(4);
  });
});
