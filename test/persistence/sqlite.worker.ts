/**
 * A writer with its own SQLite connection, run as a worker thread or a child process by
 * sqlite-concurrency.int.test.ts. It obeys commands from its parent, one at a time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort } from 'node:worker_threads';
import type { StoredEvent } from '../../src/persistence/records';
import type { SqliteProcessRecorder } from '../../src/persistence/sqlite';
import { SqliteInfrastructureFactory } from '../../src/persistence/sqlite';

export type Command =
  | { readonly type: 'open'; readonly dbName: string; readonly applicationName: string }
  /** `writes` transactions of `eventsPerWrite` events of one new aggregate each, `pauseMs` apart. */
  | {
      readonly type: 'write';
      readonly prefix: string;
      readonly writes: number;
      readonly eventsPerWrite: number;
      readonly pauseMs: number;
    }
  /** One event recorded with a tracking record of `upstream`'s `notificationId`. */
  | { readonly type: 'track'; readonly upstream: string; readonly notificationId: number; readonly prefix: string }
  /** Versions 1 and 2 of `originatorId`, with `body` as state. */
  | { readonly type: 'claim'; readonly originatorId: string; readonly body: string }
  | { readonly type: 'close' };

export type Reply =
  | { readonly type: 'opened' }
  | { readonly type: 'written'; readonly ids: number[][] }
  /** 'ok', or the name of the error the write raised. */
  | { readonly type: 'outcome'; readonly outcome: string; readonly message?: string }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly name: string; readonly message: string };

function stored(originatorId: string, originatorVersion: number, body: string): StoredEvent {
  return { originatorId, originatorVersion, topic: 'Worker.Event', state: Buffer.from(JSON.stringify({ body })) };
}

function reply(message: Reply): Promise<void> {
  if (parentPort !== null) {
    parentPort.postMessage(message);
    return Promise.resolve();
  }
  return new Promise((resolve) => process.send!(message, undefined, undefined, () => resolve()));
}

/** Lets the thread or process end once its last reply is on its way. */
function hangUp(): void {
  if (parentPort !== null) parentPort.close();
  else process.disconnect();
}

let factory: SqliteInfrastructureFactory | undefined;
let recorder: SqliteProcessRecorder | undefined;

async function outcome(write: Promise<unknown>): Promise<Reply> {
  try {
    await write;
    return { type: 'outcome', outcome: 'ok' };
  } catch (error) {
    return { type: 'outcome', outcome: (error as Error).name, message: (error as Error).message };
  }
}

async function obey(command: Command): Promise<Reply> {
  switch (command.type) {
    case 'open':
      factory = new SqliteInfrastructureFactory({ applicationName: command.applicationName, dbName: command.dbName });
      recorder = factory.processRecorder();
      return { type: 'opened' };
    case 'write': {
      const ids: number[][] = [];
      for (let write = 0; write < command.writes; write++) {
        const originatorId = `${command.prefix}-${write}`;
        const events = Array.from({ length: command.eventsPerWrite }, (_, i) => stored(originatorId, i + 1, originatorId));
        ids.push(await recorder!.insertEvents(events));
        // Without a pause, a writer that just committed takes the lock again before the others'
        // busy handlers wake up (SQLite's busy waiting is not first come, first served).
        await sleep(command.pauseMs);
      }
      return { type: 'written', ids };
    }
    case 'track':
      return outcome(
        recorder!.insertEvents([stored(`${command.prefix}-${command.notificationId}`, 1, command.prefix)], {
          tracking: {
            applicationName: command.upstream,
            notificationId: command.notificationId,
            previousNotificationId: command.notificationId - 1,
          },
        }),
      );
    case 'claim':
      return outcome(
        recorder!.insertEvents([stored(command.originatorId, 1, command.body), stored(command.originatorId, 2, command.body)]),
      );
    case 'close':
      await factory?.close();
      return { type: 'closed' };
  }
}

let queue = Promise.resolve();
function receive(command: Command): void {
  queue = queue.then(async () => {
    try {
      await reply(await obey(command));
    } catch (error) {
      await reply({ type: 'failed', name: (error as Error).name, message: (error as Error).message });
    }
    if (command.type === 'close') hangUp();
  });
}

if (parentPort !== null) parentPort.on('message', receive);
else process.on('message', (message) => receive(message as Command));
