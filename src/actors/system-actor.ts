import { produce } from 'immer';
import type { Application } from '../application';
import { RunnerError, type ProcessObserver, type SupervisionOptions, type System } from '../system';
import type { CommandInbox } from './command-inbox';
import { spawnPipelineActor, type ProcessWorkersDependency } from './pipeline-actor';
import type { PipelineMessage, ProcessSnapshot, SystemMessage } from './protocols';
import { answer, ask, failure, MAX_TIMEOUT_MS, ok, reply, spawnActor, stopActor, tell, type ActorRef, type ParentRef, type ReplyTo } from './refs';

export interface SystemActorDependencies {
  readonly name: string;
  readonly system: System;
  /** Each pipeline's instances of the system's applications, by pipeline id, then by name. */
  readonly pipelines: ReadonlyMap<number, ReadonlyMap<string, Application>>;
  readonly supervision: SupervisionOptions;
  /** Each pipeline's command inboxes, by pipeline id, then by application name. */
  readonly inboxes: ReadonlyMap<number, ReadonlyMap<string, CommandInbox>>;
  readonly statusTimeoutMs: number;
  readonly onFault: (error: Error) => void;
  /** Told of every failure of a process (for the warnings on stderr). */
  readonly onFailure?: (applicationName: string, pipelineId: number, error: Error) => void;
  /** What watches each process's supervision (logs and metrics). */
  readonly observe?: (applicationName: string, pipelineId: number) => ProcessObserver;
  /** Told when a pipeline takes up a leader's 'recorded' message (the runner coalesces them). */
  readonly announced: (pipelineId: number, leaderName: string) => void;
  readonly random?: () => number;
  /** Process slaves: the runner's worker processes, and what their followers record. */
  readonly processWorkers?: ProcessWorkersDependency;
  /** A member of a cluster: masters start and stop as the member's slots move. */
  readonly clustered?: boolean;
}

export interface SystemActorState {
  readonly started: boolean;
  /** One PipelineActor per pipeline id. */
  readonly pipelines: Readonly<Record<number, ActorRef<PipelineMessage>>>;
}

/**
 * SystemActor: the root of a runner's actors. It spawns one PipelineActor per pipeline id, passes
 * the runner's ticks on to them, routes requests for one application of one pipeline, gathers
 * status, and stops its pipelines bottom-up.
 */
export function spawnSystemActor(parent: ParentRef, deps: SystemActorDependencies): ActorRef<SystemMessage> {
  return spawnActor<SystemActorState, SystemMessage>(
    parent,
    deps.name,
    async (state, message, ctx) => {
      switch (message.type) {
        case 'start': {
          if (state.started) {
            reply(message.replyTo, ok(undefined));
            return state;
          }
          const pipelines: Record<number, ActorRef<PipelineMessage>> = {};
          await answer(message.replyTo, async () => {
            for (const [pipelineId, applications] of deps.pipelines) {
              pipelines[pipelineId] = spawnPipelineActor(ctx.self, {
                pipelineId,
                system: deps.system,
                applications,
                supervision: deps.supervision,
                inboxes: deps.inboxes.get(pipelineId)!,
                statusTimeoutMs: deps.statusTimeoutMs,
                onFault: deps.onFault,
                onFailure: deps.onFailure,
                observe: deps.observe,
                announced: (leaderName) => deps.announced(pipelineId, leaderName),
                random: deps.random,
                processWorkers: deps.processWorkers,
                clustered: deps.clustered,
              });
            }
            await Promise.all(
              Object.values(pipelines).map((pipeline) => ask<PipelineMessage, void>(pipeline, (replyTo) => ({ type: 'start', replyTo }), MAX_TIMEOUT_MS)),
            );
          });
          return produce(state, (draft) => {
            draft.started = true;
            draft.pipelines = pipelines;
          });
        }

        case 'tick':
          for (const pipeline of Object.values(state.pipelines)) tell(pipeline, { type: 'tick' });
          return state;

        case 'recorded':
        case 'command':
        case 'restart':
        case 'skip':
        case 'start-process':
        case 'stop-process': {
          // Requests for one application of one pipeline go on to that pipeline's actor.
          const { pipelineId, ...request } = message;
          const pipeline = state.pipelines[pipelineId];
          if (pipeline !== undefined) tell(pipeline, request);
          else if (message.type !== 'recorded') {
            const replyTo: ReplyTo<never> = message.replyTo;
            reply(replyTo, failure(new RunnerError(`pipeline ${String(pipelineId)} is not run by this runner (it runs: ${[...deps.pipelines.keys()].join(', ')})`)));
          }
          return state;
        }

        case 'status':
          await answer(message.replyTo, async () => {
            const lists = await Promise.all(
              Object.values(state.pipelines).map((pipeline) =>
                ask<PipelineMessage, ProcessSnapshot[]>(pipeline, (replyTo) => ({ type: 'status', replyTo }), deps.statusTimeoutMs),
              ),
            );
            return lists.flat();
          });
          return state;

        case 'stop': {
          const pipelines = Object.values(state.pipelines);
          await answer(message.replyTo, async () => {
            const results = await Promise.allSettled(
              pipelines.map((pipeline) => ask<PipelineMessage, void>(pipeline, (replyTo) => ({ type: 'stop', replyTo }), MAX_TIMEOUT_MS)),
            );
            for (const pipeline of pipelines) stopActor(pipeline);
            const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
            if (failed !== undefined) throw failed.reason;
          });
          return produce(state, (draft) => {
            draft.pipelines = {};
          });
        }
      }
    },
    {
      initialState: { started: false, pipelines: {} },
      onCrash: (_message, error, ctx) => {
        deps.onFault(error);
        return ctx.resume;
      },
    },
  );
}
