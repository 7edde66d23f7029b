import { fork } from 'node:child_process';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigurationError } from '../../../domain';
import type { FromWorker, ToWorker, WorkerInit } from './protocol';
import { TYPESCRIPT, tsxHooks } from './typescript';

export type Isolation = 'process' | 'thread';

/** The runner's side of one worker, whether a child process or a thread. */
export interface WorkerHandle {
  /** The OS process id (a thread's id for a thread). */
  readonly pid: number;
  send(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Once, when the worker has ended, however it ended: `why` says how. */
  onExit(listener: (why: string) => void): void;
  /** Ends it at once (SIGKILL for a process, terminate for a thread). */
  kill(): void;
}

const ENTRY = join(__dirname, `worker-main${extname(__filename)}`);

/**
 * The TypeScript hooks a worker needs (undefined when it needs none): the worker's entry is
 * TypeScript when the runner runs from source, and the system module may be. A parent run by tsx
 * passes its hooks on to a child process through its execArgv; a parent under jest or plain node
 * does not, so the worker loads tsx's own.
 */
function typeScriptHooks(init: WorkerInit, isolation: Isolation): string | undefined {
  if (!TYPESCRIPT.test(ENTRY) && !TYPESCRIPT.test(init.systemModule.path)) return undefined;
  if (isolation === 'process' && process.execArgv.some((arg) => /tsx|ts-node/.test(arg))) return undefined;
  const hooks = tsxHooks(init.systemModule.path);
  if (hooks === undefined) {
    throw new ConfigurationError(
      `the MultiprocessRunner's workers must load TypeScript (${TYPESCRIPT.test(init.systemModule.path) ? init.systemModule.path : ENTRY}), ` +
        `and tsx is not installed: npm install --save-dev tsx, or give a system module compiled to JavaScript`,
    );
  }
  return hooks;
}

/** Starts a worker that runs `init` (see worker-main.ts). */
export function spawnWorker(init: WorkerInit, isolation: Isolation): WorkerHandle {
  const hooks = typeScriptHooks(init, isolation);
  return isolation === 'thread' ? spawnThread(init, hooks) : spawnProcess(init, hooks);
}

function spawnProcess(init: WorkerInit, hooks: string | undefined): WorkerHandle {
  // Debugger flags would make every child listen on the parent's port.
  const execArgv = process.execArgv.filter((arg) => !/^--(inspect|debug)/.test(arg));
  if (hooks !== undefined) execArgv.push('--require', hooks);
  const child = fork(ENTRY, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  // A worker that has died refuses writes (EPIPE): its exit is what tells the supervisor.
  const ignore = () => undefined;
  child.on('error', ignore);
  child.send(init, ignore);
  let exited = false;
  return {
    pid: child.pid ?? -1,
    send: (message) => {
      if (!exited && child.connected) child.send(message, ignore);
    },
    onMessage: (listener) => child.on('message', (message: FromWorker) => listener(message)),
    onExit: (listener) => {
      child.once('exit', (code, signal) => {
        exited = true;
        listener(signal !== null ? `was killed by ${signal}` : `exited with code ${code}`);
      });
    },
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}

function spawnThread(init: WorkerInit, hooks: string | undefined): WorkerHandle {
  const source = `${hooks === undefined ? '' : `require(${JSON.stringify(hooks)});`} require(${JSON.stringify(ENTRY)});`;
  const worker = new Worker(source, { eval: true, workerData: init });
  let exited = false;
  let lastError: Error | undefined;
  worker.on('error', (error) => (lastError = error));
  return {
    pid: worker.threadId,
    send: (message) => {
      if (!exited) worker.postMessage(message);
    },
    onMessage: (listener) => worker.on('message', (message: FromWorker) => listener(message)),
    onExit: (listener) => {
      worker.once('exit', (code) => {
        exited = true;
        listener(lastError !== undefined ? `threw ${lastError.name}: ${lastError.message}` : `exited with code ${code}`);
      });
    },
    kill: () => {
      if (!exited) void worker.terminate();
    },
  };
}
