export * from './multiprocess-runner';
export { WorkerExitError, type HeartbeatOptions } from './worker-supervisor';
export type { SystemModule } from './protocol';
export type { Isolation } from './spawn-worker';
