import { EventSourcingError } from '../../../domain';
import type { Follower } from '../../follower';
import type { LogLevel } from '../../../observability/logger';
import type { MasterState, ProcessObserver, SupervisorMessage } from '../../supervision';
import { errorFrom, logFieldsFrom, type FromWorker, type Positions, type WorkerInit } from './protocol';
import { spawnWorker, type Isolation, type WorkerHandle } from './spawn-worker';

/** A worker's process ended when nobody asked it to (a crash, kill -9, out of memory, a missed heartbeat). */
export class WorkerExitError extends EventSourcingError {
  override name = 'WorkerExitError';
}

export interface HeartbeatOptions {
  /** How often each worker is pinged (default 1000 ms). */
  readonly intervalMs: number;
  /** A worker that has not answered for this long is killed and replaced (default 10,000 ms). */
  readonly timeoutMs: number;
}

/** How a supervisor's workers are made: what they run, in what, watched how. */
export interface WorkerSettings {
  readonly init: WorkerInit;
  readonly isolation: Isolation;
  readonly heartbeat: HeartbeatOptions;
  /** How long a worker told to stop may take to exit before it is killed. */
  readonly stopGraceMs: number;
}

/** What a worker tells its supervisor. */
export interface WorkerEvents {
  runFinished(runId: number): void;
  runFailed(runId: number, error: Error, positions: Positions): void;
  /** The follower recorded notifications in its own log (its followers are prompted). */
  recorded(count: number, lastNotificationId: number): void;
  /** The worker's applications logged a record. */
  logged?(level: LogLevel, fields: Record<string, unknown>, message: string): void;
  /** The worker ended; `asked`: after stop() (a graceful exit, or a crash while stopping). */
  exited(error: WorkerExitError, asked: boolean): void;
}

/** How long a new worker may take to load its modules before it is taken for hung. */
const STARTUP_TIMEOUT_MS = 60_000;

/**
 * One worker (a child process or a thread) doing the work of one process application in one
 * pipeline: the supervisor's "slave". It starts the worker, watches it with heartbeats (a worker
 * silent for longer than the timeout is killed, and its end reported as a crash), and stops it
 * gracefully (the batch in flight finishes), killing it if it outstays the grace period.
 */
export class WorkerSlave {
  readonly #handle: WorkerHandle;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  #isReady = false;
  #stopping = false;
  #ended = false;
  #lastHeard = Date.now();
  #killedBecause: string | undefined;
  #seq = 0;
  #requests = 0;
  readonly #skips = new Map<number, { resolve(id: number): void; reject(error: Error): void }>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor(
    private readonly settings: WorkerSettings,
    private readonly events: WorkerEvents,
  ) {
    const handle = (this.#handle = spawnWorker(settings.init, settings.isolation));
    let settleReady!: (error?: Error) => void;
    this.ready = new Promise((resolve, reject) => (settleReady = (error) => (error === undefined ? resolve() : reject(error))));
    this.ready.catch(() => undefined); // also reported as the worker's exit
    let exited!: () => void;
    this.exited = new Promise((resolve) => (exited = resolve));
    handle.onMessage((message) => {
      this.#lastHeard = Date.now();
      this.received(message, settleReady);
    });
    handle.onExit((why) => {
      this.#ended = true;
      clearInterval(this.#heartbeat);
      const { followerName, pipelineId } = settings.init;
      const error = new WorkerExitError(
        `the worker of ${followerName} (pipeline ${pipelineId}, pid ${handle.pid}) ` +
          (this.#killedBecause === undefined ? why : `was killed: ${this.#killedBecause}`),
      );
      settleReady(error);
      for (const skip of this.#skips.values()) skip.reject(error);
      this.#skips.clear();
      exited();
      events.exited(error, this.#stopping);
    });
    this.#heartbeat = setInterval(() => this.beat(), settings.heartbeat.intervalMs);
    this.#heartbeat.unref();
  }

  /** The OS process id (a thread's id for a thread). */
  get pid(): number {
    return this.#handle.pid;
  }

  /** Whether the worker is there and not being stopped. */
  get alive(): boolean {
    return !this.#ended && !this.#stopping;
  }

  run(runId: number, waitFor: Positions = {}): void {
    this.#handle.send({ type: 'run', runId, waitFor });
  }

  /** Skips notification `notificationId` of `upstreamName` if it is the next one; resolves with its id. */
  skip(upstreamName: string, notificationId: number, reason: string): Promise<number> {
    const requestId = ++this.#requests;
    return new Promise((resolve, reject) => {
      this.#skips.set(requestId, { resolve, reject });
      this.#handle.send({ type: 'skip', requestId, upstreamName, notificationId, reason });
    });
  }

  /** After a failed run: the worker starts again from the positions as recorded. */
  reset(): void {
    this.#handle.send({ type: 'reset' });
  }

  /** Ends the worker at once (the batch in flight is abandoned, and rolls back): a stop that cannot wait. */
  kill(): Promise<void> {
    this.#stopping = true;
    this.#killedBecause ??= 'it was told to stop at once';
    this.#handle.kill();
    return this.exited;
  }

  /** Asks the worker to finish the batch in flight and exit; kills it after the grace period. */
  async stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#handle.send({ type: 'stop' });
    }
    const grace = setTimeout(() => {
      this.#killedBecause = `it did not exit within ${this.settings.stopGraceMs} ms of being told to stop`;
      this.#handle.kill();
    }, this.settings.stopGraceMs);
    await this.exited;
    clearTimeout(grace);
  }

  private received(message: FromWorker, settleReady: (error?: Error) => void): void {
    switch (message.type) {
      case 'ready':
        this.#isReady = true;
        settleReady();
        return;
      case 'start-failed':
        settleReady(errorFrom(message.error));
        return;
      case 'run-finished':
        this.events.runFinished(message.runId);
        return;
      case 'run-failed':
        this.events.runFailed(message.runId, errorFrom(message.error), message.positions);
        return;
      case 'recorded':
        this.events.recorded(message.count, message.lastNotificationId);
        return;
      case 'skipped':
      case 'skip-failed': {
        const skip = this.#skips.get(message.requestId);
        this.#skips.delete(message.requestId);
        if (message.type === 'skipped') skip?.resolve(message.notificationId);
        else skip?.reject(errorFrom(message.error));
        return;
      }
      case 'log':
        this.events.logged?.(message.level, logFieldsFrom(message.fields), message.message);
        return;
      case 'pong':
        return;
    }
  }

  /** Pings the worker, or kills it if it has been silent too long (its exit is then a crash). */
  private beat(): void {
    const { timeoutMs } = this.settings.heartbeat;
    // A worker still loading its modules has longer: tsx may be compiling them.
    const limit = this.#isReady ? timeoutMs : Math.max(timeoutMs, STARTUP_TIMEOUT_MS);
    if (Date.now() - this.#lastHeard > limit && this.#killedBecause === undefined) {
      this.#killedBecause = this.#isReady ? `it answered no heartbeat for ${timeoutMs} ms` : `it was not ready within ${limit} ms`;
      this.#handle.kill();
      return;
    }
    this.#handle.send({ type: 'ping', seq: ++this.#seq });
  }
}

/** What a worker's events become for a supervisor's machine. */
export type WorkerMachineMessage = Extract<SupervisorMessage<never>, { readonly type: 'run-finished' | 'slave-crashed' | 'slave-exited' }>;

/** The worker serving a supervisor now, and the slave generation it serves (a worker outlives failed runs). */
export interface ServingWorker {
  slave: WorkerSlave;
  generation: number;
}

/**
 * Starts a worker whose events go to a supervisor's machine as messages: runs finished or failed,
 * and its end (with the positions as recorded, to judge progress), under the generation it serves
 * at that moment. A worker that ends after it was asked to stop while its run was in flight (killed
 * for outstaying the grace period) has ended that run: nothing of its batch was kept, and it is
 * not a failure.
 */
export function startServingWorker(options: {
  readonly generation: number;
  readonly follower: Follower;
  readonly pipelineId: number;
  readonly spawn: (events: WorkerEvents) => WorkerSlave;
  readonly tell: (message: WorkerMachineMessage) => void;
  readonly state: () => Pick<MasterState<unknown>, 'phase' | 'runId'>;
  readonly recorded: WorkerEvents['recorded'];
  /** Told when the worker is ready and when it ends, and of what it logs. */
  readonly observer?: ProcessObserver;
  /** The worker has ended: the supervisor forgets it if it still serves. */
  readonly gone: (worker: ServingWorker) => void;
}): ServingWorker {
  const { follower, pipelineId, tell, observer } = options;
  const serving = { generation: options.generation } as ServingWorker;
  serving.slave = options.spawn({
    runFinished: (runId) => tell({ type: 'run-finished', runId }),
    runFailed: (runId, error, positions) => tell({ type: 'slave-crashed', runId, error, positions }),
    recorded: options.recorded,
    logged: observer && ((level, fields, message) => observer.workerLogged(level, fields, message)),
    exited: (error, asked) => {
      options.gone(serving);
      observer?.workerEnded(serving.slave.pid, error.message, asked);
      const { phase, runId } = options.state();
      if (asked) {
        if (phase === 'stopping') tell({ type: 'run-finished', runId });
        return;
      }
      void follower.recordedPositions(pipelineId).then((positions) => tell({ type: 'slave-exited', generation: serving.generation, error, positions }));
    },
  });
  if (observer !== undefined) serving.slave.ready.then(() => observer.workerStarted(serving.slave.pid), () => undefined);
  return serving;
}
