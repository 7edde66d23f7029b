// A follower's policy takes cached aggregates without reading newer events: one it saves is checked
// by its own write (refused if another writer got there first, and the batch done again with fresh
// copies), one it only reads is checked before the batch is recorded. So the fast-forward read is
// gone from the hot path, and the totals stay exact with other processes writing the same aggregates.
import { join } from 'node:path';
import { Aggregate, AggregateCreated, AggregateEvent, AggregateNotFound, DomainEvent, ProcessApplication, ProcessEvent } from '../../src';
import { Counter, Counters, World, WorldsApplication } from '../seed-example';
import { runScript } from '../support/child';
import { postgresStore, sqliteStore, StoreSetup } from '../support/stores';
import { tally } from '../actors/support/systems';

const run = (args: string[], env: Record<string, string>) => runScript(join(__dirname, 'support', 'count-in-pipeline.ts'), args, env);

/** What a follower saw of a counter it only read. */
class Sighting extends Aggregate {
  seen = 0;

  static Created = class Created extends AggregateCreated<Sighting> {
    declare readonly seen: number;

    apply(sighting: Sighting): void {
      sighting.seen = this.seen;
    }
  };
}

/** Increments the counter of 'bump' on each 'bump'; on each 'look', only reads it, and records the count it saw. */
class Tallies extends ProcessApplication {
  async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
    if (!(event instanceof World.SomethingHappened)) return;
    let counter: Counter | undefined;
    try {
      counter = await this.repository.get<Counter>(Counter.createId('bump'));
    } catch (error) {
      if (!(error instanceof AggregateNotFound)) throw error;
    }
    if (event.what === 'bump') {
      counter ??= Counter.create('bump');
      counter.increment();
      processEvent.save(counter);
    } else {
      processEvent.save(Sighting._create(Sighting.Created, { id: `sighting-${event.originatorVersion}`, seen: counter?.count ?? 0 }));
    }
  }

  async sighting(version: number): Promise<number> {
    return (await this.repository.get<Sighting>(`sighting-${version}`)).seen;
  }
}

describe.each([
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
] as const)('a follower trusting its cache, on %s', (_name, makeStore) => {
  const store: StoreSetup = makeStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('reads no newer events of the aggregates its policy saves, and redoes a batch whose copy was stale', async () => {
    const worlds = new WorldsApplication({ env: store.env() });
    const counters = new Counters({ env: store.env() });
    const other = new Counters({ env: store.env() }); // another process's instance: its own cache
    for (const follower of [counters, other]) follower.follow(worlds.name, worlds.recorder, worlds.mapper);
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'x');
    await counters.pullAndProcess(worlds.name); // the counter of x is cached now
    let reads = 0;
    const selectEvents = counters.recorder.selectEvents.bind(counters.recorder);
    counters.recorder.selectEvents = (originatorId, options) => {
      reads += 1;
      return selectEvents(originatorId, options);
    };
    for (let i = 0; i < 6; i++) await worlds.makeItSo(id, 'x');
    expect(await counters.pullAndProcess(worlds.name, { batchSize: 3 })).toBe(6);
    expect(reads).toBe(0); // two batches, each saving the cached counter: no fast-forward read

    // The other instance (the same application in another process: the same tables) moves the
    // counter on, so this one's cached copy is stale. Its write is refused, and the batch is done
    // again with a fresh copy: the count stays exact.
    await worlds.makeItSo(id, 'x');
    expect(await other.pullAndProcess(worlds.name)).toBe(1);
    await worlds.makeItSo(id, 'x');
    await worlds.makeItSo(id, 'x');
    expect(await counters.pullAndProcess(worlds.name)).toBe(2);
    expect(reads).toBeGreaterThan(0); // the retry read the counter afresh
    const fresh = new Counters({ env: store.env() });
    expect(await fresh.getCount('x')).toBe(10);

    // A batch of one notification trusts the cache once fast-forward reads are measured to cost a
    // round trip to a server (the unit of work it needs costs more than a read of a local store).
    for (let i = 0; i < 16; i++) await counters.getCount('x'); // cached: each one fast-forward read
    const before = reads;
    for (let i = 0; i < 3; i++) {
      await worlds.makeItSo(id, 'x');
      expect(await counters.pullAndProcess(worlds.name)).toBe(1);
    }
    expect(reads - before).toBe(store.name === 'postgres' ? 0 : 3);
    expect(await counters.getCount('x')).toBe(13);
    await Promise.all([worlds.close(), counters.close(), other.close(), fresh.close()]);
  });

  it('checks the cached aggregates its policy only reads before recording, and redoes the batch if one changed', async () => {
    // One runs pipeline 0 and the other (the same application in another process) pipeline 1:
    // their tracking is apart, the counter is one aggregate.
    const worlds = new WorldsApplication({ env: store.env() });
    const elsewhere = new WorldsApplication({ env: store.env(), pipelineId: 1 });
    const one = new Tallies({ env: store.env() });
    const two = new Tallies({ env: store.env() });
    for (const follower of [one, two]) follower.follow(worlds.name, worlds.recorder, worlds.mapper);
    const id = await worlds.createWorld();
    await worlds.makeItSo(id, 'bump');
    expect(await one.pullAndProcess(worlds.name)).toBe(2); // one has the counter cached, at 1
    await elsewhere.makeItSo(await elsewhere.createWorld(), 'bump');
    expect(await two.pullAndProcess(worlds.name, { pipelineId: 1 })).toBe(2); // the counter is at 2 now
    await worlds.makeItSo(id, 'look'); // version 3 of the world
    await worlds.makeItSo(id, 'look'); // a batch of more than one: it trusts the cache on every store
    let stale = 0;
    const verify = one.repository.verifyCachedReads.bind(one.repository);
    one.repository.verifyCachedReads = async (unit) => {
      try {
        await verify(unit);
      } catch (error) {
        stale += 1;
        throw error;
      }
    };
    expect(await one.pullAndProcess(worlds.name)).toBe(2);
    expect(stale).toBe(1); // the stale cached counter was caught before anything was recorded
    expect(await one.sighting(3)).toBe(2); // and the batch done again saw the counter as it was
    expect(await one.sighting(4)).toBe(2);
    await Promise.all([worlds.close(), elsewhere.close(), one.close(), two.close()]);
  });

  it('keeps totals exact with two OS processes incrementing the same counters in two pipelines', async () => {
    const commands = 150;
    const [first, second] = await Promise.all([run(['0', String(commands)], store.env()), run(['1', String(commands)], store.env())]);
    // A process that lost too many races in a row restarts and carries on (a warning): nothing else on stderr.
    const otherOutput = (stderr: string) => stderr.split('\n').filter((line) => line !== '' && !line.startsWith('eventsourcing warning:'));
    for (const child of [first, second]) expect({ code: child.code, stderr: otherOutput(child.stderr) }).toEqual({ code: 0, stderr: [] });
    const counters = new Counters({ env: store.env() });
    const worlds = new WorldsApplication({ env: store.env() });
    try {
      for (let i = 0; i < 5; i++) expect(await counters.getCount(`thing-${i}`)).toBe((2 * commands) / 5);
      const { happened, incremented, counted, expected } = await tally(worlds, counters);
      expect(happened).toBe(2 * commands);
      expect(incremented).toBe(2 * commands); // exactly one Incremented per SomethingHappened
      expect(counted).toEqual(expected);
      const reports = [first, second].map((child) => JSON.parse(child.stdout) as { reads: number; restarts: number });
      // Reads of Counter events: a cold read of each counter, and the retries of stale copies; not one per command.
      for (const report of reports) expect(report.reads).toBeLessThan(commands);
      console.log(`two processes, ${commands} commands each: Counter reads ${reports.map((r) => r.reads).join(' and ')}`);
    } finally {
      await Promise.all([counters.close(), worlds.close()]);
    }
  }, 90_000);
});
