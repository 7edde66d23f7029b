// A process that only follows resolves the topics of what another process wrote by itself, from
// the classes its modules export: the seeds' contract, exactly as written (no register call), in a
// fresh process over SQLite or PostgreSQL. A topic that stays unknown is visible at once: in the
// runner's status and on stderr, not only in a list of errors.
import { join } from 'node:path';
import { MultiThreadedRunner, System, TopicError } from '../../src';
import { Counters, WorldsApplication } from '../seed-example';
import { runScript } from '../support/child';
import { postgresStore, sqliteStore } from '../support/stores';

const run = (script: string, args: string[], env: Record<string, string>) => runScript(join(__dirname, 'support', script), args, env);

describe.each([
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('a fresh process that only follows, over %s', (_name, makeStore) => {
  const store = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it.each(['multi', 'actor', 'single'])('processes every notification another process wrote, with the %s runner', async (kind) => {
    const written = await run('write-worlds.ts', [], store.env());
    expect(written).toMatchObject({ code: 0, stderr: '' });
    const followed = await run('follow-only.ts', [kind], store.env());
    expect({ code: followed.code, stderr: followed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(followed.stdout)).toEqual({ counts: { dinosaurs: 10, trucks: 10, internet: 10 }, errors: [] });
  }, 60_000);
});

describe('a topic no loaded module exports', () => {
  it('is an error in status at once, and a warning on stderr', async () => {
    const runner = new MultiThreadedRunner(new System({ pipes: [[WorldsApplication, Counters]] }), { retryDelayMs: 5, maxRetryDelayMs: 20 });
    const written: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    await runner.start();
    try {
      const worlds = runner.get(WorldsApplication);
      await worlds.recorder.insertEvents([{ originatorId: 'x', originatorVersion: 1, topic: 'Nowhere.Known', state: Buffer.from('{}') }]);
      await worlds.makeItSo(await worlds.createWorld(), 'dinosaurs');
      await expect(runner.waitUntilIdle(2000)).rejects.toThrow(/unknown topic 'Nowhere.Known'/);
      const status = await runner.status();
      const [counters] = status.pipelines[0].processes;
      expect(counters).toMatchObject({
        applicationName: 'Counters',
        pipelineId: 0,
        state: expect.stringMatching(/^(backing-off|running)$/),
        upstreams: [{ upstreamName: 'WorldsApplication', position: 0, head: 3, lag: 3 }],
        lastError: { upstreamName: 'WorldsApplication', notificationId: 1 },
      });
      expect(counters.restarts).toBeGreaterThan(0);
      expect((counters.lastError?.error as Error & { cause: unknown }).cause).toBeInstanceOf(TopicError);
      expect(JSON.parse(JSON.stringify(counters.lastError))).toMatchObject({ error: { name: 'PolicyError' } });
      const warnings = written.filter((line) => line.startsWith('eventsourcing warning: Counters (pipeline 0) failed to process'));
      expect(warnings).toHaveLength(1); // at once, and not again for every retry
      expect(warnings[0]).toMatch(/cannot decode stored event 'Nowhere.Known' v1 of x \(notification 1\) of WorldsApplication: unknown topic 'Nowhere.Known'/);
    } finally {
      stderr.mockRestore();
      await runner.stop().catch(() => undefined);
    }
  });
});
