// The logger option: what runners and applications log, with which fields, and that the default
// still writes warnings and errors to stderr (and nothing else).
import { join } from 'node:path';
import pino from 'pino';
import { Writable } from 'node:stream';
import {
  ActorRunner,
  ConfigurationError,
  Follower,
  MultiprocessRunner,
  MultiThreadedRunner,
  PolicyError,
  RecordConflictError,
  SingleThreadedRunner,
  stderrLogger,
  System,
  type DomainEvent,
  type Logger,
  type ProcessEvent,
} from '../../src';
import { RateLimitedLog } from '../../src/observability/logger';
import { failingCounters, Worlds } from '../actors/support/systems';
import { Counters, system as seedSystem, World, WorldsApplication } from '../seed-example';
import { sqliteStore } from '../support/stores';
import { capturingStderr, RecordingLogger } from '../support/recording-logger';

const isWhat = (what: string) => (event: DomainEvent) => event instanceof World.SomethingHappened && event.what === what;

describe('the default logger', () => {
  it('writes warnings and errors to stderr, one line each, in both call shapes, and keeps info and debug quiet', async () => {
    const { lines } = await capturingStderr(async () => {
      stderrLogger.warn({ application: 'A' }, 'A is slow');
      stderrLogger.warn('just a message');
      stderrLogger.error({ application: 'A' }, 'A has failed');
      stderrLogger.info({ application: 'A' }, 'A started');
      stderrLogger.debug('details');
    });
    expect(lines).toEqual(['eventsourcing warning: A is slow', 'eventsourcing warning: just a message', 'eventsourcing error: A has failed']);
  });

  it('is what a runner uses when given none: a failing process is a warning on stderr, as before the logger option', async () => {
    const Refusing = failingCounters('Refusing', isWhat('never'));
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, Refusing]] }), { retryDelayMs: 1, maxRetryDelayMs: 5 });
    const { lines } = await capturingStderr(async () => {
      await runner.start();
      const worlds = runner.get(WorldsApplication);
      await worlds.makeItSo(await worlds.createWorld(), 'never');
      await expect(runner.waitUntilIdle(500)).rejects.toThrow(PolicyError);
      await runner.stop().catch(() => undefined);
    });
    const warnings = lines.filter((line) => line.startsWith('eventsourcing warning: Refusing (pipeline 0) failed to process: PolicyError'));
    // Retried every few milliseconds, warned of once: at most one warning per process every 5 s.
    expect(warnings).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith('eventsourcing '))).toEqual(warnings);
  });

  it('refuses a logger that lacks a level, naming what it lacks', () => {
    const half = { warn: () => undefined, error: () => undefined } as unknown as Logger;
    expect(() => new WorldsApplication({ logger: half })).toThrow(ConfigurationError);
    expect(() => new WorldsApplication({ logger: half })).toThrow('application WorldsApplication: the logger must have the methods error, warn, info and debug (it lacks info, debug)');
    expect(() => new SingleThreadedRunner(new System({ pipes: [[WorldsApplication]] }), { logger: half })).toThrow('a runner: the logger');
  });
});

describe('a rate-limited log', () => {
  it('lets one record per key through every 5 s, sends the ones held back to debug, and counts them in the next', () => {
    const logger = new RecordingLogger();
    const log = new RateLimitedLog(logger);
    const fields = { application: 'A' };
    log.log('warn', 'A', fields, 'A failed', ['failure', 'failures'], 0);
    log.log('warn', 'A', fields, 'A failed', ['failure', 'failures'], 1000);
    log.log('warn', 'B', { application: 'B' }, 'B failed', ['failure', 'failures'], 1000);
    log.log('warn', 'A', fields, 'A failed', ['failure', 'failures'], 4999);
    log.log('warn', 'A', fields, 'A failed', ['failure', 'failures'], 5000);
    log.log('warn', 'A', fields, 'A failed', ['failure', 'failures'], 10_000);
    expect(logger.records.map(({ level, message, fields }) => [level, message, fields.suppressed])).toEqual([
      ['warn', 'A failed', undefined],
      ['debug', 'A failed', undefined],
      ['warn', 'B failed', undefined],
      ['debug', 'A failed', undefined],
      ['warn', 'A failed (and 2 more failures since the last warning)', 2],
      ['warn', 'A failed', undefined],
    ]);
  });
});

describe('a recording logger given to a runner', () => {
  const runners: Array<{ stop(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop().catch(() => undefined)));
  });

  it('hears of a failing process of the MultiThreadedRunner: the failure (a warning, with its notification) and each backoff (info)', async () => {
    const logger = new RecordingLogger();
    const Refusing = failingCounters('Refusing', isWhat('never'));
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, Refusing]] }), { logger, retryDelayMs: 1, maxRetryDelayMs: 4 });
    runners.push(runner);
    const { lines } = await capturingStderr(async () => {
      await runner.start();
      const worlds = runner.get(WorldsApplication);
      await worlds.makeItSo(await worlds.createWorld(), 'never');
      await expect(runner.waitUntilIdle(300)).rejects.toThrow(PolicyError);
    });
    expect(lines.filter((line) => line.startsWith('eventsourcing '))).toEqual([]); // the logger has it all
    const [failure] = logger.find('warn', /^Refusing \(pipeline 0\) failed to process: PolicyError/);
    expect(failure.fields).toMatchObject({ application: 'Refusing', pipelineId: 0, upstream: 'WorldsApplication', notificationId: 2 });
    expect(failure.fields.err).toBeInstanceOf(PolicyError);
    const backoffs = await logger.when('info', /^Refusing \(pipeline 0\) backing off: retrying in \d+ ms \(attempt \d+\)$/, 3);
    expect(backoffs.slice(0, 3).map((record) => record.fields)).toEqual([
      { application: 'Refusing', pipelineId: 0, attempt: 1, delayMs: 1 },
      { application: 'Refusing', pipelineId: 0, attempt: 2, delayMs: 2 },
      { application: 'Refusing', pipelineId: 0, attempt: 3, delayMs: 4 },
    ]);
    // The failures held back from the warnings are there at debug level.
    expect(logger.find('debug', /^Refusing \(pipeline 0\) failed to process/).length).toBeGreaterThan(0);
  });

  it("hears the ActorRunner's supervision: backing off, restarted, failed past the limit (an error), restarted and skipped by hand", async () => {
    const logger = new RecordingLogger();
    const Poisoned = failingCounters('Poisoned', isWhat('poison'));
    const runner = new ActorRunner(new System({ pipes: [[Worlds, Poisoned]] }), {
      logger,
      supervision: { minBackoffMs: 1, maxBackoffMs: 2, randomFactor: 0, maxRestarts: 2 },
    });
    runners.push(runner);
    await runner.start();
    const worlds = runner.get(Worlds);
    await worlds.makeItSo(await worlds.createWorld(), 'poison'); // notification 2
    await expect(runner.waitUntilIdle(5000)).rejects.toThrow(PolicyError);
    const fields = { application: 'Poisoned', pipelineId: 0 };
    expect(logger.find('info', /backing off:/).map((record) => [record.message, record.fields])).toEqual([
      ['Poisoned (pipeline 0) backing off: restarting in 1 ms (attempt 1)', { ...fields, attempt: 1, delayMs: 1, restarts: 1 }],
      ['Poisoned (pipeline 0) backing off: restarting in 2 ms (attempt 2)', { ...fields, attempt: 2, delayMs: 2, restarts: 2 }],
    ]);
    expect(logger.find('info', /restarted after backing off$/).map((record) => record.fields)).toEqual([
      { ...fields, attempt: 1 },
      { ...fields, attempt: 2 },
    ]);
    const [failed] = logger.find('error', /./);
    expect(failed.message).toBe(
      'Poisoned (pipeline 0) failed past its restart limit (2 restarts within 60000 ms): it stays failed until it is restarted or the ' +
        "notification it fails on is skipped. Poisoned failed to process notification 2 of Worlds (pipeline 0): Poisoned refuses 'poison'",
    );
    expect(failed.fields).toMatchObject({ ...fields, restarts: 2, withinMs: 60_000 });
    expect(failed.fields.err).toBeInstanceOf(PolicyError);
    expect(logger.find('warn', /^Poisoned \(pipeline 0\) failed to process/)).toHaveLength(1); // rate-limited

    await runner.restart(Poisoned);
    await expect(runner.waitUntilIdle(5000)).rejects.toThrow(PolicyError);
    expect(logger.find('info', /^Poisoned \(pipeline 0\) restarted by hand$/).map((record) => record.fields)).toEqual([fields]);
    expect(logger.find('error', /failed past its restart limit/)).toHaveLength(2);

    expect(await runner.skip(Poisoned, 'a poison pill')).toBe(2);
    await runner.waitUntilIdle(5000);
    expect(logger.find('info', /skips/).map((record) => [record.message, record.fields])).toEqual([
      [
        'Poisoned (pipeline 0) skips notification 2 of Worlds by hand: a poison pill',
        { ...fields, upstream: 'Worlds', notificationId: 2, reason: 'a poison pill' },
      ],
    ]);
  });

  it('hears of slow batches: a warning, rate-limited per follower and upstream', async () => {
    const logger = new RecordingLogger();
    class SlowCounters extends Counters {
      override async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 25));
        await super.policy(event, processEvent);
      }
    }
    const runner = new SingleThreadedRunner(new System({ pipes: [[WorldsApplication, SlowCounters]] }), { logger, env: { SLOW_BATCH_MS: '20' } });
    runners.push(runner);
    await runner.start();
    const worlds = runner.get(WorldsApplication);
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'slowly');
    const slow = logger.find('warn', /^SlowCounters \(pipeline 0\) took \d+ ms to process notifications 1-1 of WorldsApplication \(1 in one batch; slow batches are those over 20 ms\)$/);
    expect(slow).toHaveLength(1);
    expect(slow[0].fields).toMatchObject({
      application: 'SlowCounters',
      pipelineId: 0,
      upstream: 'WorldsApplication',
      firstNotificationId: 1,
      lastNotificationId: 1,
      count: 1,
      processed: 1,
    });
    expect(slow[0].fields.durationMs).toBeGreaterThanOrEqual(20);
    expect(logger.find('debug', /took \d+ ms to process notifications 2-2/)).toHaveLength(1); // within 5 s of the first
  });

  it('hears of a conflict a follower retries: another run recorded the notification first', async () => {
    const store = sqliteStore();
    await store.setUp();
    try {
      const logger = new RecordingLogger();
      const worlds = new WorldsApplication({ env: store.env() });
      await worlds.makeItSo(await worlds.createWorld(), 'contested');
      let rival: Follower | undefined;
      class RacingCounters extends Counters {
        static override applicationName = 'Counters';
        override async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
          // The first call lets another instance over the same store process everything first.
          const other = rival;
          rival = undefined;
          if (other !== undefined) await other.pullAndProcess('WorldsApplication');
          await super.policy(event, processEvent);
        }
      }
      const racing = new RacingCounters({ env: store.env(), logger });
      rival = new Counters({ env: store.env() });
      racing.follow('WorldsApplication', worlds.recorder, worlds.mapper);
      rival.follow('WorldsApplication', worlds.recorder, worlds.mapper);
      const other = rival;
      expect(await racing.pullAndProcess('WorldsApplication')).toBe(0); // the rival did it all
      const [conflict] = logger.find('info', /lost a race/);
      expect(conflict.message).toMatch(/^Counters \(pipeline 0\) lost a race processing WorldsApplication and tries again \(retry 1\): TrackingConflictError: /);
      expect(conflict.fields).toMatchObject({ application: 'Counters', pipelineId: 0, upstream: 'WorldsApplication', attempt: 1, delayMs: 0 });
      expect(await racing.getCount('contested')).toBe(1);
      await Promise.all([worlds.close(), racing.close(), other.close()]);
    } finally {
      await store.tearDown();
    }
  });

  it('hears of a snapshot that could not be taken (the save itself succeeded)', async () => {
    const logger = new RecordingLogger();
    const app = new WorldsApplication({ logger, snapshottingIntervals: new Map([[World, 2]]) });
    jest.spyOn(app.snapshots!, 'put').mockRejectedValue(new RecordConflictError('not this one'));
    const id = await app.createWorld();
    await app.makeItSo(id, 'a conflict is no failure: already snapshotted');
    expect(logger.records).toEqual([]);
    jest.spyOn(app.snapshots!, 'put').mockRejectedValue(new Error('the disk is full'));
    await app.makeItSo(id, 'again');
    await app.makeItSo(id, 'and again');
    expect(logger.records.map(({ level, message, fields }) => [level, message, { ...fields, err: (fields.err as Error).message }])).toEqual([
      [
        'warn',
        `WorldsApplication recorded aggregate ${id} at version 4 but could not snapshot it: the disk is full`,
        { application: 'WorldsApplication', pipelineId: 0, aggregateId: id, version: 4, err: 'the disk is full' },
      ],
    ]);
    await app.close();
  });

  it('takes a pino logger as it is: records are JSON lines with the fields, and errors serialised by pino', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter((line) => line !== ''));
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const Refusing = failingCounters('Refusing', isWhat('never'));
    const runner = new ActorRunner(new System({ pipes: [[Worlds, Refusing]] }), { logger, supervision: { minBackoffMs: 1, maxBackoffMs: 1, maxRestarts: 1 } });
    runners.push(runner);
    await runner.start();
    const worlds = runner.get(Worlds);
    await worlds.makeItSo(await worlds.createWorld(), 'never');
    await expect(runner.waitUntilIdle(5000)).rejects.toThrow(PolicyError);
    await new Promise((resolve) => setImmediate(resolve));
    const records = lines.map((line) => JSON.parse(line) as Record<string, any>);
    const warning = records.find((record) => record.level === 40);
    expect(warning).toMatchObject({ application: 'Refusing', pipelineId: 0, upstream: 'Worlds', notificationId: 2, msg: expect.stringMatching(/^Refusing \(pipeline 0\) failed to process/) });
    expect(warning!.err).toMatchObject({ type: 'PolicyError', message: expect.stringContaining("Refusing refuses 'never'"), stack: expect.any(String) });
    expect(records.find((record) => record.level === 50)).toMatchObject({ application: 'Refusing', msg: expect.stringMatching(/failed past its restart limit/) });
    expect(records.find((record) => record.level === 30)).toMatchObject({ application: 'Refusing', delayMs: 1, msg: expect.stringMatching(/backing off/) });
  });
});

describe('a recording logger given to the MultiprocessRunner', () => {
  const store = sqliteStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it("hears its workers start and end (with their pids), and what the workers' applications log (a slow batch)", async () => {
    const logger = new RecordingLogger();
    const runner = new MultiprocessRunner(seedSystem, {
      logger,
      env: { ...store.env(), SLOW_BATCH_MS: '0' },
      systemModule: { path: join(__dirname, '..', 'seed-example.ts') },
    });
    await runner.start();
    try {
      const worlds = runner.get(WorldsApplication);
      await worlds.makeItSo(await worlds.createWorld(), 'elsewhere');
      await runner.waitUntilIdle(20_000);
      const [started] = logger.find('info', /^Counters \(pipeline 0\): worker \d+ started$/);
      const pid = (await runner.status()).pipelines[0].processes[0].pid;
      expect(started.fields).toEqual({ application: 'Counters', pipelineId: 0, pid });
      // Logged in the worker, by the worker's Counters; logged here by the runner's logger.
      const [slow] = logger.find('warn', /^Counters \(pipeline 0\) took \d+ ms to process notifications 1-\d of WorldsApplication/);
      expect(slow.fields).toMatchObject({ application: 'Counters', pipelineId: 0, upstream: 'WorldsApplication', firstNotificationId: 1 });
      await runner.stop();
      expect(logger.find('info', /^Counters \(pipeline 0\): worker \d+ ended$/).map((record) => record.fields)).toEqual([
        { application: 'Counters', pipelineId: 0, pid, asked: true },
      ]);
    } finally {
      await runner.stop();
    }
  });
});
