import type { AggregateEvent } from '../domain';

/** One saved event and its place in the notification log. */
export interface Recording {
  readonly domainEvent: AggregateEvent<any>;
  readonly notificationId: number;
}

/** Told of every write an application records (runners use it to prompt followers). */
export type RecordingListener = (recordings: readonly Recording[], pipelineId: number) => void | Promise<void>;
