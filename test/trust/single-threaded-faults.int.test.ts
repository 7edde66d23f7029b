// The single-threaded runner under cut connections: a command whose own write committed is never
// reported as failed. Transient downstream failures are retried; what still fails is a
// DownstreamProcessingError that names the notifications recorded. So no command reported as
// failed is recorded, and none reported as recorded is missing.
import { setTimeout as sleep } from 'node:timers/promises';
import { DownstreamProcessingError, OperationalError, SingleThreadedRunner, System } from '../../src';
import { Counters, WorldsApplication } from '../seed-example';
import { admin } from '../support/postgres';
import { withRetries } from '../support/retry';
import { postgresStore } from '../support/stores';

class StKillWorlds extends WorldsApplication {}
class StKillCounters extends Counters {}

/** Cuts every connection of this test's applications; resolves with how many. */
async function kill(): Promise<number> {
  const rows = await admin<{ killed: boolean }>(
    `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
      WHERE application_name IN ('es:StKillWorlds', 'es:StKillCounters') AND pid <> pg_backend_pid()`,
  );
  return rows.length;
}

describe('the single-threaded runner while PostgreSQL connections are cut', () => {
  const store = postgresStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('reports a command as failed only if it was not recorded, and as recorded only if it was', async () => {
    const runner = new SingleThreadedRunner(new System({ pipes: [[StKillWorlds, StKillCounters]] }), { env: store.env() });
    await runner.start();
    try {
      const worlds = runner.get(StKillWorlds);
      const id = await worlds.createWorld();
      const outcomes: Array<{ what: string; outcome: 'recorded' | 'downstream' | 'failed'; error?: unknown }> = [];
      let killed = 0;
      let flowing = true;
      const killer = (async () => {
        while (flowing) {
          await sleep(15);
          killed += await kill();
        }
      })();
      for (let i = 0; i < 150; i++) {
        const what = `thing-${i}`;
        try {
          await worlds.makeItSo(id, what);
          outcomes.push({ what, outcome: 'recorded' });
        } catch (error) {
          if (error instanceof DownstreamProcessingError) outcomes.push({ what, outcome: 'downstream', error });
          else outcomes.push({ what, outcome: 'failed', error });
        }
      }
      flowing = false;
      await killer;

      const history = await withRetries(() => worlds.getWorldHistory(id));
      const recorded = new Set(history);
      for (const { what, outcome, error } of outcomes) {
        if (outcome === 'failed') {
          expect(error).toBeInstanceOf(OperationalError); // the command's own read or write failed
          expect({ what, recorded: recorded.has(what) }).toEqual({ what, recorded: false });
        } else {
          expect({ what, recorded: recorded.has(what) }).toEqual({ what, recorded: true });
        }
      }
      expect(history).toEqual(outcomes.filter((o) => o.outcome !== 'failed').map((o) => o.what));
      expect(killed).toBeGreaterThan(0);

      // Whatever downstream processing was left undone resumes at the next prompt, exactly once.
      await withRetries(() => worlds.makeItSo(id, 'last'));
      const counters = runner.get(StKillCounters);
      for (const what of [...recorded, 'last']) expect({ what, count: await counters.getCount(what) }).toEqual({ what, count: 1 });
      console.log(
        `single-threaded under cut connections: ${killed} connections cut; of ${outcomes.length} commands ` +
          `${outcomes.filter((o) => o.outcome === 'recorded').length} recorded and processed, ` +
          `${outcomes.filter((o) => o.outcome === 'downstream').length} recorded with processing left to resume, ` +
          `${outcomes.filter((o) => o.outcome === 'failed').length} not recorded`,
      );
    } finally {
      await runner.stop().catch(() => undefined);
    }
  });
});
