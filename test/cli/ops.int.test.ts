// The operator's commands against real stores (a SQLite file in a temporary directory, and a
// PostgreSQL schema of its own): `events` prints the notification log decoded, as JSON lines, and
// tails it with --follow until SIGTERM; `skip` moves a follower past the notification its policy
// refuses, and refuses, writing nothing, a notification that is not next; bad arguments get a usage
// message and a non-zero exit.
import { join } from 'node:path';
import { Aggregate, AggregateCreated, type Application, type Notification } from '../../src';
import { WorldsApplication } from '../seed-example';
import { eventually } from '../cluster/support';
import { cli, finished } from '../support/cli';
import { postgresStore, sqliteStore, type StoreSetup } from '../support/stores';
import { PickyCounters } from '../system/multiprocess/picky-system';
import { Merger, OtherWorlds } from './ops-system';

const SYSTEM = join('test', 'cli', 'ops-system.ts');

/** What `events` should print for these notifications, decoded by `application`'s mapper. */
function expectedLines(application: Application, notifications: readonly Notification[]): unknown[] {
  return notifications.map((notification) => ({
    id: notification.id,
    originatorId: notification.originatorId,
    originatorVersion: notification.originatorVersion,
    topic: notification.topic,
    pipelineId: notification.pipelineId,
    event: JSON.parse(JSON.stringify(application.mapper.toDomainEvent(notification))),
  }));
}

function jsonLines(stdout: string): Array<Record<string, any>> {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

describe.each<[string, () => StoreSetup]>([
  ['SQLite', sqliteStore],
  ['PostgreSQL', postgresStore],
])('the operator commands on %s', (_name, makeStore) => {
  const store = makeStore();
  let env: Record<string, string>;
  const opened: Application[] = [];
  const open = <A extends Application>(application: A): A => {
    opened.push(application);
    return application;
  };

  beforeEach(async () => {
    await store.setUp();
    env = { ...store.env(), POSTGRES_POOL_SIZE: '2', EVENTS_POLL_MS: '50' };
  });
  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((application) => application.close()));
    await store.tearDown();
  });

  it('events prints exactly the recorded notifications as JSON lines; --from, --limit and --pipeline select them', async () => {
    const worlds = open(new WorldsApplication({ env }));
    const worldId = await worlds.createWorld();
    await worlds.makeItSo(worldId, 'dinosaurs');
    await worlds.makeItSo(worldId, 'trucks');
    const elsewhere = await open(new WorldsApplication({ env, pipelineId: 1 })).createWorld();
    const recorded = await worlds.notificationLog.select(1, 100);
    expect(recorded.map((notification) => notification.pipelineId)).toEqual([0, 0, 0, 1]);

    const [all, some, pipeline1] = await Promise.all([
      finished(cli(['events', 'WorldsApplication', '--system', SYSTEM], env)),
      finished(cli(['events', 'WorldsApplication', '--system', SYSTEM, '--from', String(recorded[1].id), '--limit', '2'], env)),
      finished(cli(['events', 'WorldsApplication', '--system', SYSTEM, '--pipeline', '1'], env)),
    ]);
    expect(all.code).toBe(0);
    const lines = jsonLines(all.stdout);
    expect(lines).toEqual(expectedLines(worlds, recorded));
    expect(lines.map((line) => [line.topic, line.originatorId, line.originatorVersion, line.event.what])).toEqual([
      ['World.Created', worldId, 1, undefined],
      ['World.SomethingHappened', worldId, 2, 'dinosaurs'],
      ['World.SomethingHappened', worldId, 3, 'trucks'],
      ['World.Created', elsewhere, 1, undefined],
    ]);
    expect(lines[1].event).toEqual({ originatorId: worldId, originatorVersion: 2, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), what: 'dinosaurs' });

    expect(some.code).toBe(0);
    expect(jsonLines(some.stdout)).toEqual(expectedLines(worlds, recorded.slice(1, 3)));
    expect(pipeline1.code).toBe(0);
    expect(jsonLines(pipeline1.stdout)).toEqual(expectedLines(worlds, recorded.slice(3)));
  });

  it('events --follow prints what is recorded after it started, and exits 0 on SIGTERM', async () => {
    const worlds = open(new WorldsApplication({ env }));
    const worldId = await worlds.createWorld();
    const tail = cli(['events', 'WorldsApplication', '--system', SYSTEM, '--follow'], env);
    try {
      await eventually('the first notification', () => (jsonLines(tail.output.stdout).length === 1 ? true : undefined), 20_000);
      await worlds.makeItSo(worldId, 'later');
      const lines = await eventually('the later notification', () => {
        const lines = jsonLines(tail.output.stdout);
        return lines.length === 2 ? lines : undefined;
      }, 20_000);
      expect(lines.map((line) => line.event.what)).toEqual([undefined, 'later']);
      expect(lines).toEqual(expectedLines(worlds, await worlds.notificationLog.select(1, 100)));
    } finally {
      tail.child.kill('SIGTERM');
    }
    expect(await tail.exited).toBe(0);
    expect(tail.output.stderr).not.toMatch(/eventsourcing-nact:/);
  });

  it('skip moves a follower past the notification its policy refuses, recording a SkippedNotification; one that is not next is refused, writing nothing', async () => {
    const worlds = open(new WorldsApplication({ env, pipelineId: 1 }));
    const worldId = await worlds.createWorld();
    await worlds.makeItSo(worldId, 'poison');
    await worlds.makeItSo(worldId, 'fine');
    const [created, poison, fine] = (await worlds.notificationLog.select(1, 100)).map((notification) => notification.id);
    const picky = open(new PickyCounters({ env, pipelineId: 1 }));
    picky.follow(worlds.name, worlds.recorder, worlds.mapper);
    await expect(picky.pullAndProcess(worlds.name, { pipelineId: 1 })).rejects.toThrow(/PickyCounters refuses poison/);
    expect(await picky.trackingPosition(worlds.name, 1)).toBe(created);
    const logBefore = await picky.recorder.maxNotificationId();

    const args = ['skip', 'PickyCounters', '--system', SYSTEM, '--reason', 'poison pill'];
    const [notNext, otherPipeline] = await Promise.all([
      finished(cli([...args, '--pipeline', '1', '--notification', String(fine)], env)),
      finished(cli([...args, '--pipeline', '0', '--notification', String(poison)], env)),
    ]);
    expect(notNext.code).not.toBe(0);
    expect(notNext.stderr).toContain(`PickyCounters cannot skip notification ${fine} of WorldsApplication (pipeline 1): the next notification is ${poison}`);
    expect(otherPipeline.code).not.toBe(0);
    expect(otherPipeline.stderr).toContain(`PickyCounters cannot skip notification ${poison} of WorldsApplication (pipeline 0): there is no next notification`);
    expect(await picky.trackingPosition(worlds.name, 1)).toBe(created);
    expect(await picky.recorder.maxNotificationId()).toBe(logBefore);

    const skipped = await finished(cli([...args, '--pipeline', '1', '--notification', String(poison)], env));
    expect(skipped.stderr).toBe('');
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toBe(
      `PickyCounters skipped notification ${poison} (World.SomethingHappened v2 of ${worldId}) of WorldsApplication in pipeline 1: poison pill\n`,
    );
    expect(await picky.trackingPosition(worlds.name, 1)).toBe(poison);
    const [record] = await picky.notificationLog.select(logBefore, 1, { inclusiveOfStart: false });
    expect(record.topic).toBe('eventsourcing:SkippedNotification.Recorded');
    expect(record.pipelineId).toBe(1);
    expect(picky.mapper.toDomainEvent(record)).toMatchObject({ upstreamName: 'WorldsApplication', notificationId: poison, pipelineId: 1, reason: 'poison pill' });
    // The follower, open since it failed, goes on after the skip (a failure makes it read its position again).
    expect(await picky.pullAndProcess(worlds.name, { pipelineId: 1 })).toBe(1);
    expect(await picky.trackingPosition(worlds.name, 1)).toBe(fine);
    expect(await picky.getCount('fine')).toBe(1);
    expect(await picky.getCount('poison')).toBe(0);
  });

  it('skip needs --upstream when the follower follows several, and skips in that one alone', async () => {
    const others = open(new OtherWorlds({ env }));
    await others.createWorld();
    const [notification] = await others.notificationLog.select(1, 1);
    const merger = open(new Merger({ env }));
    const args = ['skip', 'Merger', '--system', SYSTEM, '--pipeline', '0', '--notification', String(notification.id), '--reason', 'not ours'];
    const [unnamed, unknown] = await Promise.all([finished(cli(args, env)), finished(cli([...args, '--upstream', 'PickyCounters'], env))]);
    expect(unnamed.code).not.toBe(0);
    expect(unnamed.stderr).toMatch(/Merger follows several applications: name one with --upstream \(WorldsApplication, OtherWorlds\)[\s\S]*Usage: eventsourcing-nact skip/);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/Merger does not follow PickyCounters \(it follows: WorldsApplication, OtherWorlds\)[\s\S]*Usage:/);
    expect(await merger.recorder.maxNotificationId()).toBe(0);

    const skipped = await finished(cli([...args, '--upstream', 'OtherWorlds'], env));
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toMatch(new RegExp(`^Merger skipped notification ${notification.id} \\(World.Created v1 of \\S+\\) of OtherWorlds in pipeline 0: not ours$`, 'm'));
    expect(await merger.trackingPosition('OtherWorlds')).toBe(notification.id);
    expect(await merger.trackingPosition('WorldsApplication')).toBe(0);
  });
});

/** An aggregate the command line's process does not know (no module it loads exports it). */
class Stranger extends Aggregate {
  static override topic = 'test-cli:Stranger';
  static Created = class Created extends AggregateCreated<Stranger> {};
}

describe('the operator commands refuse', () => {
  const store = sqliteStore();
  let env: Record<string, string>;
  beforeEach(async () => {
    await store.setUp();
    env = store.env();
  });
  afterEach(() => store.tearDown());

  it('bad arguments with a usage message and a non-zero exit, writing nothing', async () => {
    const worlds = new WorldsApplication({ env });
    const picky = new PickyCounters({ env });
    try {
      await worlds.createWorld(); // notification 1: a skip that went through would record
      const skip = ['skip', 'PickyCounters', '--system', SYSTEM];
      const cases: Array<[string[], RegExp]> = [
        [[...skip, '--pipeline', 'abc', '--notification', '1', '--reason', 'x'], /option '--pipeline <n>' argument 'abc' is invalid. expected an integer >= 0/],
        [[...skip, '--pipeline', '0', '--notification', '0', '--reason', 'x'], /option '--notification <id>' argument '0' is invalid. expected an integer >= 1/],
        [[...skip, '--pipeline', '0', '--notification', '1.5', '--reason', 'x'], /option '--notification <id>' argument '1.5' is invalid/],
        [[...skip, '--pipeline', '0', '--notification', '1', '--reason', '  '], /option '--reason <text>' argument '  ' is invalid. expected some text/],
        [[...skip, '--pipeline', '0', '--notification', '1'], /required option '--reason <text>' not specified/],
        [[...skip, '--notification', '1', '--reason', 'x'], /required option '--pipeline <n>' not specified/],
        [['skip', 'Nobody', '--system', SYSTEM, '--pipeline', '0', '--notification', '1', '--reason', 'x'], /Nobody is not an application of this system \(it has: WorldsApplication, PickyCounters, Merger, OtherWorlds\)/],
        [['skip', 'WorldsApplication', '--system', SYSTEM, '--pipeline', '0', '--notification', '1', '--reason', 'x'], /WorldsApplication follows nothing, so it has nothing to skip \(the followers are: PickyCounters, Merger\)/],
        [['events', '--system', SYSTEM], /missing required argument 'app'/],
        [['events', 'WorldsApplication', '--system', SYSTEM, '--from', '-1'], /option '--from <id>' argument '-1' is invalid. expected an integer >= 1/],
        [['events', 'WorldsApplication', '--system', SYSTEM, '--limit', 'lots'], /option '--limit <n>' argument 'lots' is invalid/],
        [['events', 'WorldsApplication', '--system', SYSTEM, '--pipeline', '-2'], /option '--pipeline <n>' argument '-2' is invalid/],
        [['events', 'Nobody', '--system', SYSTEM], /Nobody is not an application of this system \(it has: WorldsApplication, PickyCounters, Merger, OtherWorlds\)/],
      ];
      const runs = await Promise.all(cases.map(([args]) => finished(cli(args, env))));
      runs.forEach((run, index) => {
        const [args, message] = cases[index];
        expect({ args, code: run.code === 0 ? 0 : 'non-zero' }).toEqual({ args, code: 'non-zero' });
        expect(run.stderr).toMatch(message);
        expect(run.stderr).toMatch(/Usage: eventsourcing-nact (skip|events) \[options\] <app>/);
        expect(run.stdout).toBe('');
      });
      expect(await picky.trackingPosition('WorldsApplication')).toBe(0);
      expect(await picky.recorder.maxNotificationId()).toBe(0);
    } finally {
      await Promise.allSettled([worlds.close(), picky.close()]);
    }
  });

  it('a notification it cannot decode: events prints those before it, then names it and exits non-zero', async () => {
    const worlds = new WorldsApplication({ env });
    try {
      await worlds.createWorld();
      await worlds.save(Stranger._create(Stranger.Created, { id: '5b8e0d9e-8d43-4ac5-9f5e-2f6a3c1d7e10' }));
      await worlds.createWorld();
      const run = await finished(cli(['events', 'WorldsApplication', '--system', SYSTEM], env));
      expect(run.code).not.toBe(0);
      expect(jsonLines(run.stdout).map((line) => line.id)).toEqual([1]);
      expect(run.stderr).toMatch(/eventsourcing-nact: cannot decode stored event 'test-cli:Stranger.Created' v1 of 5b8e0d9e-\S+ \(notification 2\) of WorldsApplication/);
    } finally {
      await worlds.close();
    }
  });
});
