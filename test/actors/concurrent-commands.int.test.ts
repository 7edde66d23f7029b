// Commands sent as messages run concurrently: up to commandConcurrency at once, one at a time per
// declared key (in arrival order), queries never behind writes; results stay exact.
import { setTimeout as sleep } from 'node:timers/promises';
import { ActorRunner, RecordConflictError, RunnerError, System } from '../../src';
import { Counters, WorldsApplication } from '../seed-example';
import { memoryStore, postgresStore, sqliteStore, StoreSetup } from '../support/stores';

/** Tracks how many of its commands run at once. */
class Gauged extends WorldsApplication {
  static running = 0;
  static mostAtOnce = 0;

  static commands = {
    createWorld: {},
    makeItSo: {},
    keyedMakeItSo: { key: (worldId: string) => worldId },
    getWorldHistory: { query: true },
    slowWrite: {},
  } as const;

  async keyedMakeItSo(worldId: string, what: string): Promise<void> {
    Gauged.running += 1;
    Gauged.mostAtOnce = Math.max(Gauged.mostAtOnce, Gauged.running);
    try {
      await this.makeItSo(worldId, what);
    } finally {
      Gauged.running -= 1;
    }
  }

  async slowWrite(ms: number): Promise<string> {
    Gauged.running += 1;
    Gauged.mostAtOnce = Math.max(Gauged.mostAtOnce, Gauged.running);
    await sleep(ms);
    Gauged.running -= 1;
    return 'written';
  }
}

const system = new System({ pipes: [[Gauged, Counters]] });

describe.each([
  ['memory', memoryStore],
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('concurrent commands over %s', (_name, makeStore) => {
  const store: StoreSetup = makeStore();
  let runner: ActorRunner;
  beforeEach(async () => {
    await store.setUp();
    Gauged.running = 0;
    Gauged.mostAtOnce = 0;
  });
  afterEach(async () => {
    await runner?.stop();
    await store.tearDown();
  });

  it('runs 64 commands in flight on one application, each answered with its own result', async () => {
    runner = new ActorRunner(system, { env: store.env() });
    await runner.start();
    const ids = await Promise.all(Array.from({ length: 64 }, () => runner.ask(Gauged, 'createWorld', [])));
    expect(new Set(ids).size).toBe(64);
    await Promise.all(ids.map((id, index) => runner.ask(Gauged, 'makeItSo', [id, `thing-${index % 8}`])));
    const histories = await Promise.all(ids.map((id) => runner.ask(Gauged, 'getWorldHistory', [id])));
    expect(histories).toEqual(ids.map((_, index) => [`thing-${index % 8}`]));
    await runner.waitUntilIdle();
    for (let i = 0; i < 8; i++) expect(await runner.get(Counters).getCount(`thing-${i}`)).toBe(8);
  });

  it('runs commands of one key one at a time, in arrival order, with no conflict; other keys side by side', async () => {
    runner = new ActorRunner(system, { env: store.env() });
    await runner.start();
    const [one, two] = await Promise.all([runner.ask(Gauged, 'createWorld', []), runner.ask(Gauged, 'createWorld', [])]);
    const asks = Array.from({ length: 64 }, (_, index) => runner.ask(Gauged, 'keyedMakeItSo', [index % 2 ? one : two, `n${index}`]));
    await Promise.all(asks); // none refused: same-key commands never race
    expect(await runner.ask(Gauged, 'getWorldHistory', [one])).toEqual(Array.from({ length: 32 }, (_, i) => `n${2 * i + 1}`));
    expect(await runner.ask(Gauged, 'getWorldHistory', [two])).toEqual(Array.from({ length: 32 }, (_, i) => `n${2 * i}`));
    // One per key at a time, the two keys side by side on every store (commands that arrive in
    // one turn start together, so they interleave even where no command waits for I/O).
    expect(Gauged.mostAtOnce).toBe(2);
    await runner.waitUntilIdle();
  });

  it('without a key, commands on one aggregate race and the losers are refused (optimistic concurrency)', async () => {
    runner = new ActorRunner(system, { env: store.env() });
    await runner.start();
    const id = await runner.ask(Gauged, 'createWorld', []);
    const outcomes = await Promise.allSettled(Array.from({ length: 16 }, (_, index) => runner.ask(Gauged, 'makeItSo', [id, `n${index}`])));
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    for (const outcome of refused) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(RecordConflictError);
    const history = await runner.ask(Gauged, 'getWorldHistory', [id]);
    expect(history).toHaveLength(16 - refused.length);
    // They race where commands wait for I/O; in memory and on SQLite a command never yields.
    if (store.name === 'postgres') expect(refused.length).toBeGreaterThan(0);
  });

  it('waits beyond commandConcurrency, and never makes a query wait behind writes', async () => {
    runner = new ActorRunner(system, { env: store.env(), commandConcurrency: 2 });
    await runner.start();
    const id = await runner.ask(Gauged, 'createWorld', []);
    const order: string[] = [];
    const writes = Array.from({ length: 6 }, () => runner.ask(Gauged, 'slowWrite', [40]).then((result) => (order.push('write'), result)));
    const query = runner.ask(Gauged, 'getWorldHistory', [id]).then((history) => (order.push('query'), history));
    expect(await query).toEqual([]);
    expect(await Promise.all(writes)).toEqual(Array(6).fill('written'));
    expect(order[0]).toBe('query'); // it did not wait behind the writes
    expect(Gauged.mostAtOnce).toBe(2);
  });
});

describe('the command options of the ActorRunner', () => {
  it('refuses a commandConcurrency that is not a positive integer, and a key that is not a string', async () => {
    expect(() => new ActorRunner(system, { commandConcurrency: 0 })).toThrow('commandConcurrency must be an integer >= 1, got 0');
    class BadKey extends WorldsApplication {
      static commands = { makeItSo: { key: () => 42 as unknown as string } } as const;
    }
    const runner = new ActorRunner(new System({ pipes: [[BadKey, Counters]] }));
    await runner.start();
    try {
      await expect(runner.ask(BadKey, 'makeItSo', ['x', 'y'])).rejects.toThrow('BadKey.makeItSo: its key must be a string, got number');
      await expect(runner.ask(BadKey, 'makeItSo', ['x', 'y'])).rejects.toThrow(RunnerError);
    } finally {
      await runner.stop();
    }
  });
});

/** Compile-time checks only (never called): the object form is typed as the list form is. */
export function typeChecks(runner: ActorRunner): void {
  void runner.ask(Gauged, 'keyedMakeItSo', ['id', 'what']);
  // @ts-expect-error: wrong type of argument
  void runner.ask(Gauged, 'keyedMakeItSo', ['id', 42]);
  // @ts-expect-error: not declared
  void runner.ask(Gauged, 'notACommand', []);
  const history: Promise<string[]> = runner.ask(Gauged, 'getWorldHistory', ['id']);
  void history;
}
