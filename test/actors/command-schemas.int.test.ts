// Command arguments checked at run time: the object form of `static commands` takes a Standard
// Schema of the arguments array (zod, valibot, or any object with '~standard'.validate), and
// `ask` refuses arguments that do not match, with the schema's issues; what the schema outputs
// replaces the arguments.
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { StandardSchemaV1 as SpecStandardSchemaV1 } from '@standard-schema/spec';
import * as v from 'valibot';
import { z } from 'zod';
import { ActorRunner, BadCommandArgumentsError, RunnerError, System, type StandardSchemaV1 } from '../../src';
import { WorldsApplication } from '../seed-example';

/** A minimal hand-written Standard Schema: arguments `[name]`, a name of letters, upper-cased. */
const shouted: StandardSchemaV1<[string], [string]> = {
  '~standard': {
    version: 1,
    vendor: 'hand-written',
    validate: (value) => {
      const [name] = value as unknown[];
      if (typeof name !== 'string' || !/^[a-z]+$/i.test(name)) return { issues: [{ message: 'a name of letters', path: [{ key: 0 }] }] };
      return { value: [name.toUpperCase()] };
    },
  },
};

/** The same, answering with a promise after a moment, as an asynchronous schema may. */
const shoutedLater: StandardSchemaV1<[string], [string]> = {
  '~standard': {
    version: 1,
    vendor: 'hand-written',
    validate: async (value) => {
      await sleep(20);
      return shouted['~standard'].validate(value);
    },
  },
};

class Checked extends WorldsApplication {
  static calls: unknown[][] = [];

  static commands = {
    createWorld: {},
    makeItSo: { schema: z.tuple([z.uuid(), z.string().trim().min(1)]), key: (worldId: string) => worldId },
    getWorldHistory: { schema: v.tuple([v.pipe(v.string(), v.uuid())]), query: true },
    greet: { schema: shouted },
    greetLater: { schema: shoutedLater },
    greetRefined: { schema: z.tuple([z.string().refine(async (name) => name !== 'nobody', 'not nobody')]) },
    move: { schema: z.tuple([z.object({ address: z.object({ city: z.string() }) }), z.number().int().positive()]) },
    wait: { schema: z.tuple([z.coerce.number()]) },
    plain: {},
  };

  async greet(name: string): Promise<string> {
    Checked.calls.push(['greet', name]);
    return `hello ${name}`;
  }

  async greetLater(name: string): Promise<string> {
    Checked.calls.push(['greetLater', name]);
    return `hello ${name}`;
  }

  async greetRefined(name: string): Promise<string> {
    return `hello ${name}`;
  }

  async move(to: { address: { city: string } }, floors: number): Promise<string> {
    Checked.calls.push(['move', to, floors]);
    return `${to.address.city} ${floors}`;
  }

  async wait(ms: number): Promise<number> {
    return ms + 1;
  }

  async plain(text: string): Promise<string> {
    return text;
  }
}

const system = new System({ pipes: [[Checked]] });

describe('command arguments checked by their schemas', () => {
  let runner: ActorRunner;
  beforeEach(async () => {
    Checked.calls = [];
    runner = new ActorRunner(system, { env: { PERSISTENCE: 'memory' } });
    await runner.start();
  });
  afterEach(() => runner.stop());

  it('runs the command with what a zod schema outputs: its transforms replace the arguments', async () => {
    const id = await runner.ask(Checked, 'createWorld', []);
    await runner.ask(Checked, 'makeItSo', [id, '  dinosaurs  ']);
    expect(await runner.ask(Checked, 'getWorldHistory', [id])).toEqual(['dinosaurs']);
    expect(await runner.ask(Checked, 'wait', ['41'])).toBe(42); // z.coerce.number(): the method gets a number
  });

  it('refuses arguments a zod schema rejects, naming the application, the command and each issue’s path; nothing runs', async () => {
    const id = await runner.ask(Checked, 'createWorld', []);
    const refused = runner.ask(Checked, 'makeItSo', ['not-a-uuid', '   ']);
    await expect(refused).rejects.toThrow(BadCommandArgumentsError);
    await expect(refused).rejects.toThrow(/^Checked\.makeItSo: the arguments do not match its schema: args\[0\]: Invalid UUID; args\[1\]: Too small: .*>=1 characters$/);
    const error = (await refused.catch((caught: unknown) => caught)) as BadCommandArgumentsError;
    expect(error.issues).toEqual([
      { message: 'Invalid UUID', path: [0] },
      { message: expect.stringMatching(/^Too small/), path: [1] },
    ]);
    await expect(runner.ask(Checked, 'makeItSo', [id, 'x', 'extra'] as never)).rejects.toThrow('args: Too big: expected array to have <=2 items');
    expect(await runner.ask(Checked, 'getWorldHistory', [id])).toEqual([]);
  });

  it('names nested paths from the arguments array', async () => {
    await expect(runner.ask(Checked, 'move', [{ address: { city: 7 } }, -1] as never)).rejects.toThrow(
      'Checked.move: the arguments do not match its schema: args[0].address.city: Invalid input: expected string, received number; args[1]: Too small: expected number to be >0',
    );
    expect(await runner.ask(Checked, 'move', [{ address: { city: 'Oslo' } }, 3])).toBe('Oslo 3');
    expect(Checked.calls).toEqual([['move', { address: { city: 'Oslo' } }, 3]]);
  });

  it('checks with valibot as with zod', async () => {
    await expect(runner.ask(Checked, 'getWorldHistory', ['nowhere'])).rejects.toThrow(
      'Checked.getWorldHistory: the arguments do not match its schema: args[0]: Invalid UUID: Received "nowhere"',
    );
  });

  it('checks with a hand-written Standard Schema, whose path segments may be objects', async () => {
    expect(await runner.ask(Checked, 'greet', ['ada'])).toBe('hello ADA');
    await expect(runner.ask(Checked, 'greet', ['4da'])).rejects.toThrow('Checked.greet: the arguments do not match its schema: args[0]: a name of letters');
    expect(Checked.calls).toEqual([['greet', 'ADA']]);
  });

  it('awaits a schema that validates asynchronously (a promise, or zod with an async refinement)', async () => {
    expect(await runner.ask(Checked, 'greetLater', ['ada'])).toBe('hello ADA');
    await expect(runner.ask(Checked, 'greetLater', ['?'])).rejects.toThrow('Checked.greetLater: the arguments do not match its schema: args[0]: a name of letters');
    expect(await runner.ask(Checked, 'greetRefined', ['ada'])).toBe('hello ada');
    await expect(runner.ask(Checked, 'greetRefined', ['nobody'])).rejects.toThrow('args[0]: not nobody');
  });

  it('adds no turn of the event loop when the schema answers synchronously', async () => {
    const answered = runner.ask(Checked, 'greet', ['ada']);
    await nextTurn(); // the inbox starts what arrived in a turn on the next one, schema or none
    expect(Checked.calls).toEqual([['greet', 'ADA']]);
    await answered;
    const later = runner.ask(Checked, 'greetLater', ['bob']);
    await nextTurn();
    expect(Checked.calls).toEqual([['greet', 'ADA']]); // still validating
    await later;
    expect(Checked.calls).toEqual([['greet', 'ADA'], ['greetLater', 'BOB']]);
  });

  it('keeps checking commands without a schema as before', async () => {
    expect(await runner.ask(Checked, 'plain', ['as it is'])).toBe('as it is');
    await expect(runner.ask(Checked, 'plain', [] as never)).rejects.toThrow('Checked.plain takes 1 argument, got 0');
    await expect(runner.ask(Checked, 'greet', 'ada' as never)).rejects.toThrow('Checked.greet needs its arguments as an array, got string');
  });

  it('lets a stop wait for a command whose schema is still validating, and answers it', async () => {
    const answered = runner.ask(Checked, 'greetLater', ['ada']);
    await runner.stop();
    await expect(answered).resolves.toBe('hello ADA');
  });
});

describe('command declarations that cannot work', () => {
  const broken = (schema: unknown) =>
    class Broken extends WorldsApplication {
      static commands = { greet: { schema: schema as StandardSchemaV1<[string]> } };
      async greet(name: string): Promise<string> {
        return name;
      }
    };

  it('refuses to start with a schema that is not a Standard Schema, naming the class and the command', async () => {
    const runner = new ActorRunner(new System({ pipes: [[broken({ parse: () => [] })]] }));
    await expect(runner.start()).rejects.toThrow(
      "Broken.greet: its schema must be a Standard Schema (an object with '~standard'.validate, as zod, valibot and ArkType make), got an object",
    );
    expect(runner.isRunning).toBe(false);
  });

  it('refuses a command whose schema throws, outputs no array, or answers no result, as the declaration’s fault', async () => {
    const standard = (validate: (value: unknown) => unknown) => ({ '~standard': { version: 1, vendor: 'test', validate } });
    const cases: Array<[unknown, string]> = [
      [
        standard(() => {
          throw new TypeError('the schema has a bug');
        }),
        'Broken.greet: its schema failed instead of answering: the schema has a bug',
      ],
      [standard(async () => Promise.reject(new Error('later'))), 'Broken.greet: its schema failed instead of answering: later'],
      [standard(() => ({ value: { name: 'ada' } })), 'Broken.greet: its schema must output the arguments as an array, it output an object'],
      [standard(() => null), 'Broken.greet: its schema answered null, not a Standard Schema result ({ value } or { issues })'],
    ];
    for (const [schema, message] of cases) {
      const Broken = broken(schema);
      const runner = new ActorRunner(new System({ pipes: [[Broken]] }));
      await runner.start();
      try {
        const refused = runner.ask(Broken, 'greet', ['ada'] as never);
        await expect(refused).rejects.toThrow(message);
        await expect(refused).rejects.toThrow(RunnerError);
        await expect(refused).rejects.not.toThrow(BadCommandArgumentsError);
      } finally {
        await runner.stop();
      }
    }
  });
});

/** Compile-time checks only (never called). */
export function typeChecks(runner: ActorRunner): void {
  // With a schema, ask takes the schema's input type...
  void runner.ask(Checked, 'makeItSo', ['id', 'what']);
  // @ts-expect-error: the schema takes two strings
  void runner.ask(Checked, 'makeItSo', ['id', 42]);
  void runner.ask(Checked, 'wait', ['5']); // z.coerce.number() takes anything
  void runner.ask(Checked, 'move', [{ address: { city: 'Oslo' } }, 3]);
  // @ts-expect-error: the city is a string
  void runner.ask(Checked, 'move', [{ address: { city: 7 } }, 3]);
  // ...and the result is still the method's.
  const greeting: Promise<string> = runner.ask(Checked, 'greet', ['ada']);
  void greeting;

  // A schema whose output the method cannot take makes every ask of it fail to compile.
  class Misfit extends WorldsApplication {
    static commands = { count: { schema: z.tuple([z.string()]) } };
    async count(n: number): Promise<number> {
      return n;
    }
  }
  // @ts-expect-error: the schema outputs [string], the method takes [n: number]
  void runner.ask(Misfit, 'count', ['1']);

  // The interface copied into the package is the spec's, both ways.
  const fromSpec: StandardSchemaV1<[string], [string]> = {} as SpecStandardSchemaV1<[string], [string]>;
  const toSpec: SpecStandardSchemaV1<[string], [string]> = {} as StandardSchemaV1<[string], [string]>;
  void fromSpec;
  void toSpec;
}
