export * from './multiprocess-runner';
export { WorkerExitError, type HeartbeatOptions } from './worker-slave';
export type { SystemModule } from './protocol';
export type { Isolation } from './spawn-worker';
export * from './worker-options';
export { startServingWorker, WorkerSlave, type ServingWorker, type WorkerEvents, type WorkerSettings } from './worker-slave';
export { TYPESCRIPT, tsxHooks } from './typescript';
