// Applications and helpers shared by the ActorRunner tests.
import { setTimeout as sleep } from 'node:timers/promises';
import { ActorRunner, ActorRunnerStatus, Application, DomainEvent, Follower, ProcessEvent, ProcessStatus } from '../../../src';
import { Counter, Counters, World, WorldsApplication } from '../../seed-example';

/** The seed's World application with its methods declared as commands. */
export class Worlds extends WorldsApplication {
  static commands = ['createWorld', 'makeItSo', 'getWorldHistory'] as const;
}

/** The seed's Counters with `getCount` declared as a command. */
export class CountersWithCommands extends Counters {
  static commands = ['getCount'] as const;
}

/** Counts events of a log (of one pipeline, if given): how many of each event class. */
export async function eventsIn(app: Application, pipelineId?: number): Promise<DomainEvent[]> {
  const events: DomainEvent[] = [];
  for (let start = 0; ; ) {
    const page = await app.recorder.selectNotifications(start, 1000, { pipelineId, inclusiveOfStart: false });
    for (const notification of page) events.push(app.mapper.toDomainEvent(notification));
    if (page.length < 1000) return events;
    start = page[page.length - 1].id;
  }
}

/**
 * What a Counters-like follower's log shows against what its upstream's log shows (in one
 * pipeline): SomethingHappened per `what` upstream, Incremented per counter downstream.
 */
export async function tally(worlds: Application, counters: Follower, pipelineId?: number) {
  const happened = new Map<string, number>();
  for (const event of await eventsIn(worlds, pipelineId)) {
    if (event instanceof World.SomethingHappened) happened.set(event.what, (happened.get(event.what) ?? 0) + 1);
  }
  let incremented = 0;
  const counted = new Map<string, number>();
  for (const event of await eventsIn(counters, pipelineId)) {
    if (event instanceof Counter.Incremented) {
      incremented += 1;
      counted.set(event.originatorId, (counted.get(event.originatorId) ?? 0) + 1);
    }
  }
  const expected = new Map([...happened].map(([what, n]) => [Counter.createId(what), n]));
  return { happened: sum(happened), incremented, counted, expected };
}

export const sum = (map: ReadonlyMap<unknown, number>): number => [...map.values()].reduce((a, b) => a + b, 0);

/** The status of one process application in one pipeline. */
export function processIn(status: ActorRunnerStatus, applicationName: string, pipelineId = 0): ProcessStatus {
  const process = status.pipelines.find((p) => p.pipelineId === pipelineId)?.processes.find((p) => p.applicationName === applicationName);
  if (process === undefined) throw new Error(`no status for ${applicationName} in pipeline ${pipelineId}`);
  return process;
}

/** Polls the runner's status until `predicate` holds (or fails after `timeoutMs`). */
export async function statusWhen(
  runner: ActorRunner,
  predicate: (status: ActorRunnerStatus) => boolean,
  timeoutMs = 10_000,
): Promise<ActorRunnerStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await runner.status();
    if (predicate(status)) return status;
    if (Date.now() > deadline) throw new Error(`status never matched; last: ${JSON.stringify(status, replacer)}`);
    await sleep(5);
  }
}

const replacer = (_key: string, value: unknown) => (value instanceof Error ? `${value.name}: ${value.message}` : value);

/** Runs `count` jobs over `lanes` concurrent lanes (each lane one after another). */
export async function inLanes(count: number, lanes: number, job: (index: number, lane: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let index = next++; index < count; index = next++) await job(index, lane);
    }),
  );
}

/** A Counters whose policy can be made to fail: set `fails` to decide, per event. */
export function failingCounters(name: string, fails: (event: DomainEvent) => boolean): typeof Counters {
  const cls = class extends Counters {
    static override applicationName = name;
    override async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
      if (fails(event)) throw new Error(`${name} refuses ${describe(event)}`);
      await super.policy(event, processEvent);
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

function describe(event: DomainEvent): string {
  return event instanceof World.SomethingHappened ? `'${event.what}'` : event.constructor.name;
}

/**
 * The state of a process that has caught up: `idle`, or `running` when a poll tick (which starts a
 * run to look upstream) happens to coincide with the status request.
 */
export const caughtUp = (): unknown => expect.stringMatching(/^(idle|running)$/);
