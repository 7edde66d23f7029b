// A projection killed with SIGKILL in the middle of a backlog, on SQLite and PostgreSQL: the whole
// process, or the MultiprocessRunner's worker that runs it. At the kill, the view is exactly the
// log up to its tracking position (each batch was one transaction with its tracking record);
// started again (or replaced by the runner), it carries on from there and ends exact.
import { join } from 'node:path';
import { MultiprocessRunner, type ViewRecorder } from '../../src';
import { World, WorldsApplication } from '../../examples/worlds/domain';
import { statsSystem, WorldStatsProjection } from '../../examples/worlds/stats';
import { runTypeScript } from '../support/cli';
import { postgresStore, sqliteStore } from '../support/stores';
import { sendCommands, statsOf } from './support';

const SCRIPT = join(__dirname, 'project-until-idle.ts');

/** How many things happened in the log up to `position`. */
async function happenedUpTo(worlds: WorldsApplication, position: number): Promise<number> {
  const prefix = await worlds.recorder.selectNotifications(1, position, { stop: position });
  return prefix.map((notification) => worlds.mapper.toDomainEvent(notification)).filter((event) => event instanceof World.SomethingHappened).length;
}

/** How many things happened, as the view counts them. */
async function viewTotal(stats: WorldStatsProjection): Promise<number> {
  const [row] = await (stats.recorder as unknown as ViewRecorder).queryView<{ total: number | null }>(`SELECT SUM(n) AS total FROM ${stats.view.table('what_counts')}`);
  return Number(row.total ?? 0);
}

describe.each([
  ['SQLite', sqliteStore],
  ['PostgreSQL', postgresStore],
] as const)('a projection killed with SIGKILL on %s', (_name, makeStore) => {
  const store = makeStore();
  let worlds: WorldsApplication;
  let stats: WorldStatsProjection;
  beforeEach(async () => {
    await store.setUp();
    worlds = new WorldsApplication({ env: store.env() });
    stats = new WorldStatsProjection({ env: store.env() });
  });
  afterEach(async () => {
    await Promise.allSettled([worlds.close(), stats.close()]);
    await store.tearDown();
  });

  it('holds exactly the log up to its position at the kill, and resumes to exact', async () => {
    const expected = await sendCommands(worlds, 2000);
    const head = await worlds.recorder.maxNotificationId();
    const first = runTypeScript(SCRIPT, [], { ...store.env(), SLOW_VIEW_MS: '3', PROJECTION_BATCH: '5' });
    let position = 0;
    try {
      const deadline = Date.now() + 60_000;
      while ((position = await stats.trackingPosition('WorldsApplication')) < 300) {
        if (Date.now() > deadline) throw new Error(`the projection did not get going: ${first.output.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      first.child.kill('SIGKILL');
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL');
    }
    expect({ code: await first.exited, signal: first.child.signalCode }).toEqual({ code: null, signal: 'SIGKILL' });
    position = await stats.trackingPosition('WorldsApplication');
    expect(position).toBeLessThan(head); // killed mid-way

    expect(await viewTotal(stats)).toBe(await happenedUpTo(worlds, position)); // no more, no less

    const second = runTypeScript(SCRIPT, [], store.env());
    const ended = { code: await second.exited, signal: second.child.signalCode };
    expect({ ...ended, stderr: second.output.stderr.split('\n').filter((line) => !line.startsWith('eventsourcing ')).join('\n') }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(await stats.trackingPosition('WorldsApplication')).toBe(head);
    expect(await statsOf(stats.view, expected)).toEqual({ whats: expected.sortedWhats, worlds: expected.worlds });
  });

  it("is replaced after its worker is killed, and ends exact (MultiprocessRunner)", async () => {
    const expected = await sendCommands(worlds, 2000);
    const head = await worlds.recorder.maxNotificationId();
    process.env.SLOW_VIEW_MS = '3';
    process.env.PROJECTION_BATCH = '5';
    const runner = new MultiprocessRunner(statsSystem, {
      env: store.env(),
      systemModule: { path: join(__dirname, 'slow-stats-system.ts') },
      supervision: { minBackoffMs: 10, maxBackoffMs: 100 },
    });
    try {
      await runner.start();
      const deadline = Date.now() + 60_000;
      while ((await stats.trackingPosition('WorldsApplication')) < 300) {
        if (Date.now() > deadline) throw new Error('the projection did not get going');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const [process0] = (await runner.status()).pipelines[0].processes;
      expect(process0.kind).toBe('projection');
      process.kill(process0.pid!, 'SIGKILL');
      // (waitUntilIdle would report the kill, which the runner recorded as an error: wait for the position instead.)
      while ((await stats.trackingPosition('WorldsApplication')) < head) {
        if (Date.now() > deadline) throw new Error('the replacement did not catch up');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(runner.errors.map((error) => error.message)).toEqual([expect.stringContaining('was killed by SIGKILL')]);
      const [after] = (await runner.status()).pipelines[0].processes;
      expect(after.pid).not.toBe(process0.pid);
      expect(after.restarts).toBeGreaterThanOrEqual(1);
    } finally {
      delete process.env.SLOW_VIEW_MS;
      delete process.env.PROJECTION_BATCH;
      // stop() reports the errors not reported yet: the kill, which this test made.
      await runner.stop().catch((error: Error) => {
        if (!/was killed by SIGKILL/.test(error.message)) throw error;
      });
    }
    expect(await stats.trackingPosition('WorldsApplication')).toBe(head);
    expect(await statsOf(stats.view, expected)).toEqual({ whats: expected.sortedWhats, worlds: expected.worlds });
  });
});
