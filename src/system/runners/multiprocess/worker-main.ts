// The entry of a MultiprocessRunner's worker: a child process (started with child_process.fork,
// told what to run by its first IPC message) or a worker thread (told by its workerData).
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './protocol';
import { runWorker, type WorkerChannel } from './worker';

function threadChannel(): WorkerChannel {
  const port = parentPort!;
  return {
    pid: threadId,
    send: (message: FromWorker) => port.postMessage(message),
    onMessage: (listener) => port.on('message', (message: ToWorker) => listener(message)),
    onDisconnect: (listener) => port.on('close', listener),
    exit: (code) => process.exit(code),
  };
}

function processChannel(): WorkerChannel {
  return {
    pid: process.pid,
    send: (message: FromWorker) => {
      if (process.connected) process.send!(message);
    },
    onMessage: (listener) => process.on('message', (message: ToWorker) => listener(message)),
    onDisconnect: (listener) => process.on('disconnect', listener),
    exit: (code) => process.exit(code),
  };
}

if (!isMainThread) {
  void runWorker(threadChannel(), workerData as WorkerInit);
} else if (process.send === undefined) {
  console.error('this is a worker of the MultiprocessRunner: the runner starts it (child_process.fork), it does not run alone');
  process.exit(2);
} else {
  const channel = processChannel();
  // Until it is told what to run, the worker is an orphan if its runner dies.
  channel.onDisconnect(() => process.exit(0));
  process.once('message', (init: WorkerInit) => void runWorker(channel, init));
}
