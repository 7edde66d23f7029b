// The messages the runner's actors accept: one discriminated union per actor, sent through typed refs.
import type { ExpectedSkip, ProcessActivity } from '../system';
import type { ReplyTo } from './refs';

/** What a master knows of its process (status adds positions and heads, read from the stores). */
export type ProcessSnapshot = ProcessActivity;

/** Commands as messages: a method of an application, with its arguments. */
export interface CommandRequest {
  readonly command: string;
  readonly args: unknown;
  readonly replyTo: ReplyTo<unknown>;
}

/** Asks an actor to drain and stop its children; answered when done (the asker then stops it). */
export interface StopRequest {
  readonly type: 'stop';
  readonly replyTo: ReplyTo<void>;
}

/** ProcessSlave: runs the follower over its upstreams, one request at a time. */
export type SlaveMessage =
  /** Process everything new upstream; answered to the master with `run-finished`, or by crashing. */
  | { readonly type: 'run'; readonly runId: number }
  /** Skip notification `notificationId` of `upstreamName`, if it is the next one. */
  | {
      readonly type: 'skip';
      readonly upstreamName: string;
      readonly notificationId: number;
      readonly reason: string;
      readonly replyTo: ReplyTo<number>;
    };

/** ProcessMaster: the state machine of one process application in one pipeline. */
export type MasterMessage =
  /** Something new may be upstream (a leader recorded, the tick, waitUntilIdle). */
  | { readonly type: 'prompt' }
  | { readonly type: 'run-finished'; readonly runId: number }
  /** Sent from the slave's crash handler: the run failed and the slave stopped; where the positions stood. */
  | { readonly type: 'slave-crashed'; readonly runId: number; readonly error: Error; readonly positions: Readonly<Record<string, number>> }
  /** A slave's worker process ended (process slaves only), whether or not it was running. */
  | { readonly type: 'slave-exited'; readonly generation: number; readonly error: Error; readonly positions: Readonly<Record<string, number>> }
  | { readonly type: 'backoff-elapsed'; readonly runId: number }
  /** Leave `failed` and run again. */
  | { readonly type: 'restart'; readonly replyTo: ReplyTo<void> }
  /** Leave `failed` by skipping the notification it failed on; answered with its id. */
  | ({ readonly type: 'skip'; readonly reason: string; readonly replyTo: ReplyTo<number> } & ExpectedSkip)
  | { readonly type: 'status'; readonly replyTo: ReplyTo<ProcessSnapshot> }
  /** Start no more runs, let the one in flight finish, stop the slave; answered when done. */
  | StopRequest;

/** ApplicationActor: serves the commands of one application in one pipeline, one at a time. */
export type ApplicationMessage =
  | ({ readonly type: 'command' } & CommandRequest)
  /** Answered after every command received before it. */
  | StopRequest;

/** Messages addressed to one application of a pipeline. */
type ToApplication<M> = M & { readonly applicationName: string };

/** PipelineActor: one pipeline's masters and application actors. */
export type PipelineMessage =
  /** Spawn the children, subscribe to the leaders, prompt every master. */
  | { readonly type: 'start'; readonly replyTo: ReplyTo<void> }
  /** `leaderName` recorded something in this pipeline: prompt its followers. */
  | { readonly type: 'recorded'; readonly leaderName: string }
  /** Prompt every master (the poll that makes up for lost prompts). */
  | { readonly type: 'tick' }
  | ToApplication<{ readonly type: 'command' } & CommandRequest>
  | ToApplication<{ readonly type: 'restart'; readonly replyTo: ReplyTo<void> }>
  | ToApplication<({ readonly type: 'skip'; readonly reason: string; readonly replyTo: ReplyTo<number> } & ExpectedSkip)>
  | { readonly type: 'status'; readonly replyTo: ReplyTo<ProcessSnapshot[]> }
  /** A member of a cluster took (or gave up) the slot of one process application in this pipeline. */
  | ToApplication<{ readonly type: 'start-process'; readonly replyTo: ReplyTo<void> }>
  | ToApplication<{ readonly type: 'stop-process'; readonly replyTo: ReplyTo<void> }>
  | StopRequest;

/** Messages addressed to one application of one pipeline. */
type ToPipeline<M> = M & { readonly pipelineId: number };

/** SystemActor: the runner's root actor, one PipelineActor per pipeline id. */
export type SystemMessage =
  | { readonly type: 'start'; readonly replyTo: ReplyTo<void> }
  /** Prompt every master of every pipeline (the runner's poll timer, and waitUntilIdle's nudge). */
  | { readonly type: 'tick' }
  /** `leaderName` recorded something in a pipeline: prompt its followers there. */
  | ToPipeline<{ readonly type: 'recorded'; readonly leaderName: string }>
  | ToPipeline<ToApplication<{ readonly type: 'command' } & CommandRequest>>
  | ToPipeline<ToApplication<{ readonly type: 'restart'; readonly replyTo: ReplyTo<void> }>>
  | ToPipeline<ToApplication<({ readonly type: 'skip'; readonly reason: string; readonly replyTo: ReplyTo<number> } & ExpectedSkip)>>
  | ToPipeline<ToApplication<{ readonly type: 'start-process' | 'stop-process'; readonly replyTo: ReplyTo<void> }>>
  | { readonly type: 'status'; readonly replyTo: ReplyTo<ProcessSnapshot[]> }
  | StopRequest;
