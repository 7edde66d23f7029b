// Commands as messages (`ask`), checked at compile time and at run time; and the runner's actors
// living inside a user's own nact system.
import { setTimeout as sleep } from 'node:timers/promises';
import { dispatch, spawn, start, stop, type Ref } from 'nact';
import {
  ActorRunner,
  AggregateNotFound,
  AskTimeoutError,
  BadCommandArgumentsError,
  RunnerError,
  System,
  UnknownCommandError,
  type Reply,
  type SystemMessage,
} from '../../src';
import { WorldsApplication } from '../seed-example';
import { CountersWithCommands } from './support/systems';

class SlowWorlds extends WorldsApplication {
  static commands = ['createWorld', 'makeItSo', 'getWorldHistory', 'wait', 'fail'] as const;

  async wait(ms: number): Promise<string> {
    await sleep(ms);
    return `waited ${ms} ms`;
  }

  async fail(message: string): Promise<never> {
    throw new Error(message);
  }

  notACommand(): string {
    return 'not for messages';
  }
}

class Elsewhere extends WorldsApplication {
  static commands = ['createWorld'] as const;
}

const askSystem = new System({ pipes: [[SlowWorlds, CountersWithCommands]] });

describe('ActorRunner.ask', () => {
  let runner: ActorRunner;
  beforeEach(async () => {
    runner = new ActorRunner(askSystem, { pipelineIds: [0, 1] });
    await runner.start();
  });
  afterEach(() => runner.stop());

  it('sends commands to an application’s actor and resolves with their results', async () => {
    const id: string = await runner.ask(SlowWorlds, 'createWorld', []);
    await runner.ask(SlowWorlds, 'makeItSo', [id, 'dinosaurs']);
    await runner.ask(SlowWorlds, 'makeItSo', [id, 'trucks'], { timeoutMs: 5000 });
    const history: string[] = await runner.ask(SlowWorlds, 'getWorldHistory', [id]);
    expect(history).toEqual(['dinosaurs', 'trucks']);
    await runner.waitUntilIdle();
    const count: number = await runner.ask(CountersWithCommands, 'getCount', ['dinosaurs']);
    expect(count).toBe(1);
    // The command went through pipeline 0: pipeline 1 saw nothing.
    expect(await runner.ask(CountersWithCommands, 'getCount', ['dinosaurs'], { pipelineId: 1 })).toBe(0);
    expect(await runner.get(SlowWorlds).recorder.maxNotificationId(1)).toBe(0);
  });

  it('enters the pipeline it is given', async () => {
    const id = await runner.ask(SlowWorlds, 'createWorld', [], { pipelineId: 1 });
    await runner.ask(SlowWorlds, 'makeItSo', [id, 'rain'], { pipelineId: 1 });
    await runner.waitUntilIdle();
    expect(await runner.get(CountersWithCommands, 1).getCount('rain')).toBe(1);
    expect(await runner.get(CountersWithCommands, 0).getCount('rain')).toBe(0);
    await expect(runner.ask(SlowWorlds, 'createWorld', [], { pipelineId: 7 })).rejects.toThrow(
      'pipeline 7 is not run by this runner (it runs: 0, 1)',
    );
  });

  it('rejects with the command’s own error, and keeps serving', async () => {
    await expect(runner.ask(SlowWorlds, 'fail', ['boom'])).rejects.toThrow('boom');
    await expect(runner.ask(SlowWorlds, 'makeItSo', ['no-such-world', 'x'])).rejects.toThrow(AggregateNotFound);
    expect(typeof (await runner.ask(SlowWorlds, 'createWorld', []))).toBe('string');
  });

  it('refuses unknown applications and commands, and arguments of the wrong shape, and keeps serving', async () => {
    await expect(runner.ask(Elsewhere, 'createWorld', [])).rejects.toThrow('Elsewhere is not an application of this system');
    // @ts-expect-error: not declared as a command
    await expect(runner.ask(SlowWorlds, 'notACommand', [])).rejects.toThrow(UnknownCommandError);
    // @ts-expect-error: no such method
    await expect(runner.ask(SlowWorlds, 'dropTables', [])).rejects.toThrow(
      "SlowWorlds has no command 'dropTables' (its commands: createWorld, makeItSo, getWorldHistory, wait, fail)",
    );
    // @ts-expect-error: too few arguments
    await expect(runner.ask(SlowWorlds, 'makeItSo', ['id'])).rejects.toThrow('SlowWorlds.makeItSo takes 2 arguments, got 1');
    // @ts-expect-error: not an array
    await expect(runner.ask(SlowWorlds, 'makeItSo', 'dinosaurs')).rejects.toThrow(BadCommandArgumentsError);
    expect(typeof (await runner.ask(SlowWorlds, 'createWorld', []))).toBe('string');
  });

  it('rejects when the answer does not come in time, and keeps serving', async () => {
    await expect(runner.ask(SlowWorlds, 'wait', [300], { timeoutMs: 20 })).rejects.toThrow(
      new AskTimeoutError('SlowWorlds.wait (pipeline 0) was not answered within 20 ms'),
    );
    expect(await runner.ask(SlowWorlds, 'wait', [1])).toBe('waited 1 ms');
    await expect(runner.ask(SlowWorlds, 'wait', [1], { timeoutMs: -1 })).rejects.toThrow('timeoutMs must be a number > 0, got -1');
  });

  it('is refused before start and after stop', async () => {
    const idle = new ActorRunner(askSystem);
    await expect(idle.ask(SlowWorlds, 'createWorld', [])).rejects.toThrow('the runner is not running');
    await idle.start();
    await idle.stop();
    await expect(idle.ask(SlowWorlds, 'createWorld', [])).rejects.toThrow(RunnerError);
  });
});

/** Compile-time checks only (never called): the names and the arguments of commands are typed. */
export function typeChecks(runner: ActorRunner): void {
  void runner.ask(SlowWorlds, 'makeItSo', ['id', 'what']);
  // @ts-expect-error: wrong type of argument
  void runner.ask(SlowWorlds, 'makeItSo', ['id', 42]);
  // @ts-expect-error: too many arguments
  void runner.ask(SlowWorlds, 'getWorldHistory', ['id', 'more']);
  // @ts-expect-error: the class declares no commands
  void runner.ask(WorldsApplication, 'createWorld', []);
  // @ts-expect-error: the result is a number
  const text: Promise<string> = runner.ask(CountersWithCommands, 'getCount', ['x']);
  void text;
}

describe('the ActorRunner inside a user’s nact system', () => {
  it('lives under the given parent, serves the user’s actors, and leaves the user’s system running', async () => {
    const userSystem = start();
    type FrontendMessage = { type: 'create' } | Reply<unknown>;
    const answers: Array<Reply<unknown>> = [];
    let target!: Ref<SystemMessage>; // the runner's SystemActor
    // The user's actor sends commands as messages, with itself as the address of the answer.
    const frontend: Ref<FrontendMessage> = spawn(
      userSystem,
      (state: number, message: FrontendMessage, ctx) => {
        if ('type' in message) {
          const command: SystemMessage = {
            type: 'command',
            pipelineId: 0,
            applicationName: 'SlowWorlds',
            command: 'createWorld',
            args: [],
            replyTo: ctx.self as never,
          };
          dispatch(target, command);
        } else {
          answers.push(message);
        }
        return state + 1;
      },
      'frontend',
      { initialState: 0 },
    );
    const backend = spawn(userSystem, (state: null) => state, 'backend', { initialState: null });

    const runner = new ActorRunner(askSystem, { parent: backend });
    await runner.start();
    target = runner.ref;
    expect((runner.ref as unknown as { parent: unknown }).parent).toBe(backend);
    expect((runner.ref as unknown as { path: { parts: string[] } }).path.parts).toEqual(['backend', expect.stringMatching(/^eventsourcing-/)]);

    dispatch(frontend, { type: 'create' });
    for (let wait = 0; answers.length === 0 && wait < 200; wait++) await sleep(5);
    expect(answers).toEqual([{ ok: true, value: expect.any(String) }]);
    const id = (answers[0] as { value: string }).value;
    expect(await runner.get(SlowWorlds).getWorldHistory(id)).toEqual([]);

    await runner.stop();
    // The user's actors are untouched and still answer.
    dispatch(frontend, { type: 'create' }); // the runner is gone: no answer, no crash
    const echo = spawn(userSystem, (state: null, message: { replyTo: Ref<string> }) => (dispatch(message.replyTo, 'pong'), state), 'echo', {
      initialState: null,
    });
    const { query } = await import('nact');
    expect(await query(echo, (replyTo: Ref<string>) => ({ replyTo }), 1000)).toBe('pong');
    stop(userSystem);
  });

  it('says so when its actors were stopped from outside, and still closes its applications', async () => {
    const userSystem = start();
    const parent = spawn(userSystem, (state: null) => state, 'parent', { initialState: null });
    const runner = new ActorRunner(askSystem, { parent });
    await runner.start();
    stop(parent); // nact leaves the runner's actors running, but no message reaches them any more
    await expect(runner.stop()).rejects.toThrow("the runner's actors were stopped from outside (was the parent given to the runner stopped?)");
    expect(runner.get.bind(runner, SlowWorlds)).toThrow(/stopped/);
    stop(userSystem);
  });

  it('starts and stops a nact system of its own without a parent', async () => {
    const runner = new ActorRunner(askSystem);
    await runner.start();
    const path = (runner.ref as unknown as { path: { parts: string[] } }).path.parts;
    expect(path).toHaveLength(1);
    await runner.stop();
    expect(() => runner.ref).toThrow('the runner is not running');
  });
});
