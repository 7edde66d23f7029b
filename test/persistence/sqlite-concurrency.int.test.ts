/**
 * Real concurrency on one SQLite file: writers in worker threads and child processes, each with its
 * own connection (see sqlite.worker.ts), while this thread reads the log with its own connection.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Notification } from '../../src/persistence/records';
import { SqliteInfrastructureFactory } from '../../src/persistence/sqlite';
import { makeTempDir, removeTempDir } from './sqlite-harness';
import type { Command, Reply } from './sqlite.worker';

const WORKER_FILE = path.join(__dirname, 'sqlite.worker.ts');
const REPLY_TIMEOUT_MS = 20_000;

/** A writer in another thread or process, answering each command with one reply, in order. */
class Peer {
  private readonly pending: { resolve(reply: Reply): void; reject(error: Error): void }[] = [];
  private readonly exited: Promise<void>;
  private failure?: Error;

  private constructor(
    readonly label: string,
    private readonly post: (command: Command) => void,
    private readonly kill: () => void,
    subscribe: (onReply: (reply: Reply) => void, onError: (error: Error) => void, onExit: () => void) => void,
  ) {
    let exit: () => void;
    this.exited = new Promise((resolve) => (exit = resolve));
    subscribe(
      (reply) => this.pending.shift()?.resolve(reply),
      (error) => this.fail(error),
      () => {
        this.fail(new Error(`${label} exited`));
        exit();
      },
    );
  }

  /** A worker thread: tsx's CommonJS hooks are registered before the worker file is required. */
  static thread(label: string): Peer {
    const worker = new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(WORKER_FILE)});`, {
      eval: true,
    });
    return new Peer(
      label,
      (command) => worker.postMessage(command),
      () => void worker.terminate(),
      (onReply, onError, onExit) => {
        worker.on('message', onReply);
        worker.on('error', onError);
        worker.on('exit', onExit);
      },
    );
  }

  /** A child process running the worker file with tsx. */
  static process(label: string): Peer {
    const child: ChildProcess = fork(WORKER_FILE, [], {
      execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Peer(
      label,
      (command) => child.send(command),
      () => void child.kill(),
      (onReply, onError, onExit) => {
        child.on('message', (message) => onReply(message as Reply));
        child.on('error', onError);
        child.on('exit', onExit);
      },
    );
  }

  async request(command: Command): Promise<Reply> {
    if (this.failure !== undefined) throw this.failure;
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: no reply to ${command.type}`)), REPLY_TIMEOUT_MS);
      this.pending.push({
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
    });
    this.post(command);
    const answer = await reply;
    if (answer.type === 'failed') throw new Error(`${this.label}: ${answer.name}: ${answer.message}`);
    return answer;
  }

  /** Closes the peer's connection and waits for it to end (or ends it). */
  async stop(): Promise<void> {
    try {
      if (this.failure === undefined) await this.request({ type: 'close' });
    } catch {
      this.kill();
    }
    await Promise.race([this.exited, sleep(2000, undefined, { ref: false })]);
    this.kill();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.splice(0)) waiter.reject(error);
  }
}

describe('sqlite recorders across threads and processes', () => {
  let dir: string;
  let dbName: string;
  let peers: Peer[] = [];
  let factory: SqliteInfrastructureFactory | undefined;

  beforeEach(() => {
    dir = makeTempDir();
    dbName = path.join(dir, 'shared.db');
  });

  afterEach(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    peers = [];
    await factory?.close();
    factory = undefined;
    removeTempDir(dir);
  });

  async function start(make: (label: string) => Peer, count: number, applicationName: string): Promise<Peer[]> {
    // This thread creates the tables first, so the peers' schema work is a no-op.
    factory = new SqliteInfrastructureFactory({ applicationName, dbName });
    factory.processRecorder();
    peers = Array.from({ length: count }, (_, index) => make(`peer${index}`));
    await Promise.all(peers.map((peer) => peer.request({ type: 'open', dbName, applicationName })));
    return peers;
  }

  it('shows a tailing reader every event once, in commit order, with each transaction’s events adjacent', async () => {
    const writers = await start(Peer.thread, 4, 'tailed');
    const writes = 50;
    const eventsPerWrite = 3;
    const total = writers.length * writes * eventsPerWrite;
    const reader = factory!.applicationRecorder();

    let writing = true;
    let batchesWhileWriting = 0;
    const written = Promise.all(
      writers.map((peer) => peer.request({ type: 'write', prefix: peer.label, writes, eventsPerWrite, pauseMs: 0 })),
    ).finally(() => (writing = false));

    const seen: Notification[] = [];
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    let position = 0;
    while (seen.length < total) {
      if (Date.now() > deadline) throw new Error(`the tail saw ${seen.length} of ${total} events`);
      const batch = await reader.selectNotifications(position, 10, { inclusiveOfStart: false });
      if (batch.length === 0) {
        await sleep(1);
        continue;
      }
      if (writing) batchesWhileWriting += 1;
      seen.push(...batch);
      position = batch[batch.length - 1].id;
    }
    const replies = await written;

    expect(batchesWhileWriting).toBeGreaterThan(0); // the log was read while the writers wrote
    const writerOf = (n: Notification) => n.originatorId.split('-')[0];
    const turns = seen.filter((n, index) => index > 0 && writerOf(n) !== writerOf(seen[index - 1])).length;
    expect(turns).toBeGreaterThan(writers.length); // the writers' transactions interleaved
    const ids = seen.map((n) => n.id);
    expect(new Set(ids).size).toBe(total);
    expect(ids.every((id, index) => index === 0 || id > ids[index - 1])).toBe(true);
    for (let index = 0; index < seen.length; index += eventsPerWrite) {
      const group = seen.slice(index, index + eventsPerWrite);
      expect(new Set(group.map((n) => n.originatorId)).size).toBe(1);
      expect(group.map((n) => n.originatorVersion)).toEqual([1, 2, 3]);
      expect(group.map((n) => n.id - group[0].id)).toEqual([0, 1, 2]);
    }
    // Each writer was told the ids the reader saw its events under.
    const idsByAggregate = new Map<string, number[]>();
    for (const n of seen) idsByAggregate.set(n.originatorId, [...(idsByAggregate.get(n.originatorId) ?? []), n.id]);
    replies.forEach((reply, writer) => {
      if (reply.type !== 'written') throw new Error(`unexpected reply ${reply.type}`);
      reply.ids.forEach((writeIds, write) => expect(idsByAggregate.get(`peer${writer}-${write}`)).toEqual(writeIds));
    });
    const log = await reader.selectNotifications(0, total + 10, { inclusiveOfStart: false });
    expect(log.map((n) => n.id)).toEqual(ids);
    expect(await reader.maxNotificationId()).toBe(ids[ids.length - 1]);
  });

  it('lets exactly one of two processes record the processing of each notification', async () => {
    const [first, second] = await start(Peer.process, 2, 'processor');
    const rounds = 20;
    const winners: string[] = [];
    for (let notificationId = 1; notificationId <= rounds; notificationId++) {
      const outcomes = await Promise.all(
        [first, second].map((peer) =>
          peer.request({ type: 'track', upstream: 'upstream', notificationId, prefix: peer.label }),
        ),
      );
      const names = outcomes.map((reply) => (reply.type === 'outcome' ? reply.outcome : reply.type));
      expect([...names].sort()).toEqual(['TrackingConflictError', 'ok']);
      winners.push(names[0] === 'ok' ? first.label : second.label);
    }
    const recorder = factory!.processRecorder();
    expect(await recorder.maxTrackingId('upstream')).toBe(rounds);
    const log = await recorder.selectNotifications(0, 100);
    expect(log.map((n) => n.originatorId)).toEqual(winners.map((winner, index) => `${winner}-${index + 1}`));
  });

  it('lets exactly one of two threads record the same aggregate versions', async () => {
    const [first, second] = await start(Peer.thread, 2, 'claims');
    const recorder = factory!.applicationRecorder();
    for (let round = 0; round < 20; round++) {
      const originatorId = `claimed-${round}`;
      const outcomes = await Promise.all(
        [first, second].map((peer) => peer.request({ type: 'claim', originatorId, body: peer.label })),
      );
      const names = outcomes.map((reply) => (reply.type === 'outcome' ? reply.outcome : reply.type));
      expect([...names].sort()).toEqual(['RecordConflictError', 'ok']);
      const winner = names[0] === 'ok' ? first.label : second.label;
      const events = await recorder.selectEvents(originatorId);
      expect(events.map((e) => JSON.parse(Buffer.from(e.state).toString('utf8')).body)).toEqual([winner, winner]);
    }
    expect((await recorder.selectNotifications(0, 100)).length).toBe(40);
  });
});
