export * from './options';
export { SqliteConnection } from './connection';
export { SqliteAggregateRecorder } from './aggregate-recorder';
export { SqliteApplicationRecorder } from './application-recorder';
export { SqliteProcessRecorder } from './process-recorder';
export { SqliteInfrastructureFactory } from './factory';
export type { SqliteDatabase, SqliteRunResult, SqliteStatement, SqliteTransaction } from './driver';
