import { isAbsolute } from 'node:path';
import { Environment, type EnvType } from '../../../application';
import { RunnerError } from '../../errors';
import type { System } from '../../system';
import { shapeOf } from '../../system-shape';
import type { SystemModule, WorkerInit } from './protocol';
import type { Isolation } from './spawn-worker';
import type { HeartbeatOptions } from './worker-slave';

/** How a runner's workers are made (the MultiprocessRunner's, and the ActorRunner's process slaves). */
export interface WorkerOptions {
  /** Where the workers load the same System from (classes cannot be sent to another process). */
  systemModule: SystemModule;
  /** A child process per worker (default), or a worker thread. */
  isolation?: Isolation;
  /** How often workers are pinged, and how long one may stay silent before it is replaced. */
  heartbeat?: Partial<HeartbeatOptions>;
  /** How long a worker told to stop may take to exit before it is killed (default 10,000 ms). */
  stopGraceMs?: number;
}

export interface ResolvedWorkerOptions {
  readonly systemModule: Required<SystemModule>;
  readonly isolation: Isolation;
  readonly heartbeat: HeartbeatOptions;
  readonly stopGraceMs: number;
}

const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 1000, timeoutMs: 10_000 };
/** SQLite's own default wait for its write lock (SQLITE_BUSY_TIMEOUT_MS). */
const SQLITE_BUSY_TIMEOUT_DEFAULT_MS = 5000;

/** Checks the options of `who`'s workers against the system's stores, with the defaults filled in. */
export function resolveWorkerOptions(system: System, options: WorkerOptions & { env?: EnvType }, who: string): ResolvedWorkerOptions {
  const systemModule = checkSystemModule(options?.systemModule, who);
  const isolation = options.isolation ?? 'process';
  if (isolation !== 'process' && isolation !== 'thread') {
    throw new RunnerError(`isolation must be 'process' or 'thread', got ${String(options.isolation)}`);
  }
  const stopGraceMs = positive('stopGraceMs', options.stopGraceMs, 10_000);
  const busyTimeoutMs = checkSharedStores(system, options.env, who);
  const heartbeat = {
    intervalMs: positive('heartbeat.intervalMs', options.heartbeat?.intervalMs, DEFAULT_HEARTBEAT.intervalMs),
    timeoutMs: positive('heartbeat.timeoutMs', options.heartbeat?.timeoutMs, Math.max(DEFAULT_HEARTBEAT.timeoutMs, busyTimeoutMs * 2)),
  };
  if (heartbeat.timeoutMs <= busyTimeoutMs) {
    throw new RunnerError(
      `heartbeat.timeoutMs (${heartbeat.timeoutMs}) must exceed SQLITE_BUSY_TIMEOUT_MS (${busyTimeoutMs}): ` +
        `a worker waiting for SQLite's write lock cannot answer, and would be killed for it`,
    );
  }
  if (heartbeat.intervalMs >= heartbeat.timeoutMs) {
    throw new RunnerError(`heartbeat.intervalMs (${heartbeat.intervalMs}) must be less than heartbeat.timeoutMs (${heartbeat.timeoutMs})`);
  }
  return { systemModule, isolation, heartbeat, stopGraceMs };
}

/** What the worker of one follower in one pipeline is started with. */
export function workerInit(system: System, systemModule: Required<SystemModule>, followerName: string, pipelineId: number, env: EnvType | undefined): WorkerInit {
  const strings: Record<string, string> = {};
  for (const [key, value] of Object.entries(env ?? {})) if (typeof value === 'string') strings[key] = value;
  return { systemModule, shape: shapeOf(system), followerName, pipelineId, env: strings };
}

export function positive(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (typeof resolved !== 'number' || !Number.isFinite(resolved) || resolved <= 0) {
    throw new RunnerError(`${name} must be a number of milliseconds > 0, got ${String(value)}`);
  }
  return resolved;
}

function checkSystemModule(module: SystemModule | undefined, who: string): Required<SystemModule> {
  if (module === undefined || module === null || typeof module !== 'object') {
    throw new RunnerError(
      `${who} needs systemModule: { path, exportName? }, the module its workers load the System from (classes cannot be sent to another process)`,
    );
  }
  if (typeof module.path !== 'string' || !isAbsolute(module.path)) {
    throw new RunnerError(`systemModule.path must be an absolute path to a module, got ${JSON.stringify(module.path)}`);
  }
  const exportName = module.exportName ?? 'system';
  if (typeof exportName !== 'string' || exportName === '') throw new RunnerError(`systemModule.exportName must be a name, got ${String(module.exportName)}`);
  return { path: module.path, exportName };
}

/**
 * Refuses stores that workers cannot share (memory; SQLite's :memory:), and says how long SQLite
 * makes a writer wait for its lock (0 when no application uses SQLite).
 */
function checkSharedStores(system: System, env: EnvType | undefined, who: string): number {
  let busyTimeoutMs = 0;
  for (const name of system.applicationNames) {
    const settings = new Environment(name, { ...process.env, ...env });
    const persistence = settings.get('PERSISTENCE') ?? 'memory';
    if (persistence === 'memory') {
      throw new RunnerError(
        `${name} would use PERSISTENCE=memory, which ${who} cannot run: its workers are other processes, ` +
          `and memory is not shared between them. Use PERSISTENCE=sqlite with SQLITE_DBNAME set to a file, or PERSISTENCE=postgres`,
      );
    }
    if (persistence === 'sqlite') {
      if (settings.get('SQLITE_DBNAME') === ':memory:') {
        throw new RunnerError(`${name} would use SQLITE_DBNAME=:memory:, which other processes cannot open: give it a file path`);
      }
      const busy = Number(settings.get('SQLITE_BUSY_TIMEOUT_MS') ?? SQLITE_BUSY_TIMEOUT_DEFAULT_MS);
      if (Number.isFinite(busy)) busyTimeoutMs = Math.max(busyTimeoutMs, busy);
    }
  }
  return busyTimeoutMs;
}
