export type { PostgresInfrastructureOptions, PostgresOrdering, ResolvedPostgresOptions } from './options';
export { PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresProcessRecorder } from './recorders';
export { PostgresInfrastructureFactory } from './factory';
