import type { Application } from '../../../application';
import { ConfigurationError } from '../../../domain';
import type { Follower } from '../../follower';
import { System } from '../../system';
import { shapeDifference, shapeOf } from '../../system-shape';
import { errorData, forwardingLogger, type FromWorker, type ToWorker, type WorkerInit } from './protocol';

/** How a worker talks to its runner: a child process's IPC channel, or a thread's port. */
export interface WorkerChannel {
  send(message: FromWorker): void;
  onMessage(listener: (message: ToWorker) => void): void;
  /** The runner is gone (its process died, or closed the channel): the worker must exit. */
  onDisconnect(listener: () => void): void;
  exit(code: number): void;
  readonly pid: number;
}

/** Loads the system module named by `init` and checks that it holds the runner's system. */
function loadSystem(init: WorkerInit): System {
  const { path, exportName } = init.systemModule;
  let loaded: Record<string, unknown>;
  try {
    loaded = require(path) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigurationError(`the system module ${path} failed to load in a worker: ${(error as Error).message}`);
  }
  const system = loaded[exportName];
  if (!(system instanceof System)) {
    throw new ConfigurationError(
      system === undefined
        ? `the system module ${path} has no export '${exportName}' (it exports: ${Object.keys(loaded).join(', ') || 'nothing'})`
        : `the export '${exportName}' of ${path} is not a System of this library (is the module loading another copy of it?)`,
    );
  }
  const difference = shapeDifference(init.shape, shapeOf(system));
  if (difference !== undefined) {
    throw new ConfigurationError(`the export '${exportName}' of ${path} is not the runner's system: ${difference}`);
  }
  return system;
}

/**
 * One process application in one pipeline, in a worker of its own: it follows its upstream logs
 * from its tracking positions when the runner says run, exactly as a follower of the
 * multi-threaded runner does, and reports what it recorded. Its upstreams are instances of their
 * classes made here, used only to read their logs.
 */
export async function runWorker(channel: WorkerChannel, init: WorkerInit): Promise<void> {
  let follower: Follower;
  let upstreams: Application[];
  // What the applications log here is logged by the runner's logger.
  const logger = forwardingLogger((message) => channel.send(message));
  const make = (system: System) => {
    const env = init.env;
    follower = new (system.classOf(init.followerName))({ env, pipelineId: init.pipelineId, logger }) as Follower;
    upstreams = system.followsOf(init.followerName).map((upstreamName) => {
      const upstream = new (system.classOf(upstreamName))({ env, pipelineId: init.pipelineId, logger });
      follower.follow(upstreamName, upstream.recorder, upstream.mapper);
      return upstream;
    });
    follower.onRecorded((recordings, pipelineId) => {
      if (pipelineId !== init.pipelineId || recordings.length === 0) return;
      channel.send({ type: 'recorded', count: recordings.length, lastNotificationId: recordings[recordings.length - 1].notificationId });
    });
  };
  let system: System;
  try {
    system = loadSystem(init);
    make(system);
  } catch (error) {
    channel.send({ type: 'start-failed', error: errorData(error) });
    channel.exit(1);
    return;
  }
  const stopping = new AbortController();
  let work: Promise<void> = Promise.resolve();
  /** Work runs one piece at a time, in the order it was asked for (runs and skips). */
  const queue = (piece: () => Promise<void>) => (work = work.then(piece));
  const positions = () => follower.knownPositions(init.pipelineId);
  const close = async () => {
    await Promise.allSettled([follower, ...upstreams].map((app) => app.close()));
  };

  channel.onDisconnect(() => {
    // The runner died: nothing would ever read what this worker says. The run in flight stops
    // after its batch (which is atomic); exit without waiting longer.
    stopping.abort();
    setTimeout(() => channel.exit(0), 2000).unref();
    void work.finally(() => channel.exit(0));
  });

  channel.onMessage((message) => {
    switch (message.type) {
      case 'ping':
        channel.send({ type: 'pong', seq: message.seq });
        return;
      case 'run':
        queue(async () => {
          try {
            for (const upstreamName of follower.upstreamNames) {
              if (stopping.signal.aborted) break;
              await follower.pullAndProcess(upstreamName, { pipelineId: init.pipelineId, signal: stopping.signal, waitFor: message.waitFor[upstreamName] });
            }
            channel.send({ type: 'run-finished', runId: message.runId, positions: positions() });
          } catch (error) {
            channel.send({ type: 'run-failed', runId: message.runId, error: errorData(error), positions: positions() });
          }
        });
        return;
      case 'skip': {
        const { requestId, upstreamName, notificationId, reason } = message;
        queue(async () => {
          try {
            await follower.skipNext(upstreamName, reason, { pipelineId: init.pipelineId, notificationId });
            channel.send({ type: 'skipped', requestId, notificationId });
          } catch (error) {
            channel.send({ type: 'skip-failed', requestId, error: errorData(error) });
          }
        });
        return;
      }
      case 'reset':
        // After a failed run: the next run starts from the positions as recorded, with fresh
        // applications (nothing cached from the run that failed).
        queue(async () => {
          await close();
          make(system);
        });
        return;
      case 'stop':
        stopping.abort();
        queue(async () => {
          await close();
          channel.exit(0);
        });
        return;
    }
  });
  channel.send({ type: 'ready', pid: channel.pid });
}
