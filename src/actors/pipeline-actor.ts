import { produce } from 'immer';
import type { Application } from '../application';
import { RunnerError, type Follower, type ProcessObserver, type SupervisionOptions, type System } from '../system';
import { spawnApplicationActor } from './application-actor';
import type { CommandInbox } from './command-inbox';
import type { ProcessWorkers } from './process-workers';
import { spawnProcessMaster } from './process-master';
import type { ApplicationMessage, MasterMessage, PipelineMessage, ProcessSnapshot, StopRequest } from './protocols';
import { actorName, answer, ask, failure, MAX_TIMEOUT_MS, ok, reply, spawnActor, stopActor, tell, type ActorRef, type ParentRef, type ReplyTo, type TypedContext } from './refs';

export interface PipelineDependencies {
  readonly pipelineId: number;
  readonly system: System;
  /** This pipeline's instances of the system's applications, by name (they record in this pipeline). */
  readonly applications: ReadonlyMap<string, Application>;
  readonly supervision: SupervisionOptions;
  /** Where each application's commands arrive, by name (its actor's inbox). */
  readonly inboxes: ReadonlyMap<string, CommandInbox>;
  /** How long a status request waits for a master (masters do no I/O: they answer at once). */
  readonly statusTimeoutMs: number;
  readonly onFault: (error: Error) => void;
  /** Told of every failure of a process (for the warnings on stderr). */
  readonly onFailure?: (applicationName: string, pipelineId: number, error: Error) => void;
  /** What watches each process's supervision (logs and metrics). */
  readonly observe?: (applicationName: string, pipelineId: number) => ProcessObserver;
  /** Told when the actor takes up a leader's 'recorded' message (the runner coalesces them). */
  readonly announced: (leaderName: string) => void;
  readonly random?: () => number;
  /** Process slaves: the runner's worker processes, and what their followers record. */
  readonly processWorkers?: ProcessWorkersDependency;
  /** A member of a cluster: masters are spawned by 'start-process' as slots are taken, not at start. */
  readonly clustered?: boolean;
}

export interface ProcessWorkersDependency {
  readonly pool: ProcessWorkers;
  readonly recorded: (followerName: string, pipelineId: number, count: number, lastNotificationId: number) => void;
}

export interface PipelineState {
  readonly started: boolean;
  /** One ProcessMaster per process application, by application name. */
  readonly masters: Readonly<Record<string, ActorRef<MasterMessage>>>;
  /** One ApplicationActor per application, by name, for commands. */
  readonly applications: Readonly<Record<string, ActorRef<ApplicationMessage>>>;
}

/**
 * PipelineActor: one pipeline (an independent shard of the whole system). It spawns an
 * ApplicationActor per application and a ProcessMaster per process application, turns the
 * runner's word that a leader recorded something into prompts for the masters of its followers,
 * and routes commands, restarts, skips and status requests to its children. It stops bottom-up:
 * children first, each after draining.
 */
export function spawnPipelineActor(parent: ParentRef, deps: PipelineDependencies): ActorRef<PipelineMessage> {
  const { pipelineId, system, applications, supervision } = deps;
  /** The followers of each leader, whose masters a leader's recording prompts. */
  const followersOf = new Map(system.leaders.map((leaderName) => [leaderName, system.leadsOf(leaderName)]));

  const unknown = (name: string, what: string): Error =>
    new RunnerError(
      `pipeline ${pipelineId} has no ${what} named ${name} (it has: ${
        what === 'application' ? [...applications.keys()].join(', ') : system.followers.join(', ') || 'none'
      })`,
    );

  let spawned = 0;
  const spawnMaster = (self: ActorRef<PipelineMessage>, name: string): ActorRef<MasterMessage> =>
    spawnProcessMaster(self, actorName(`process-${spawned++}`, name), {
      follower: applications.get(name) as Follower,
      pipelineId,
      supervision,
      onFault: deps.onFault,
      onFailure: deps.onFailure && ((error: Error) => deps.onFailure!(name, pipelineId, error)),
      observer: deps.observe?.(name, pipelineId),
      random: deps.random,
      workers: deps.processWorkers && {
        pool: deps.processWorkers.pool,
        recorded: (count, lastNotificationId) => deps.processWorkers!.recorded(name, pipelineId, count, lastNotificationId),
      },
    });

  const behaviour = async (state: PipelineState, message: PipelineMessage, ctx: TypedContext<PipelineMessage>): Promise<PipelineState> => {
    switch (message.type) {
      case 'start': {
        if (state.started) {
          reply(message.replyTo, ok(undefined));
          return state;
        }
        const self = ctx.self;
        const masters: Record<string, ActorRef<MasterMessage>> = {};
        const actors: Record<string, ActorRef<ApplicationMessage>> = {};
        await answer(message.replyTo, () => {
          let index = 0;
          for (const [name, inbox] of deps.inboxes) {
            actors[name] = spawnApplicationActor(self, actorName(`application-${index++}`, name), inbox, { onFault: deps.onFault });
          }
          // A member of a cluster spawns the masters of the slots it owns only, as it takes them.
          if (!deps.clustered) for (const name of system.followers) masters[name] = spawnMaster(self, name);
          // Catch up with whatever was recorded while nothing ran.
          for (const master of Object.values(masters)) tell(master, { type: 'prompt' });
        });
        return produce(state, (draft) => {
          draft.started = true;
          draft.masters = masters;
          draft.applications = actors;
        });
      }

      case 'recorded':
        deps.announced(message.leaderName);
        for (const followerName of followersOf.get(message.leaderName) ?? []) {
          const master = state.masters[followerName];
          if (master !== undefined) tell(master, { type: 'prompt' });
        }
        return state;

      case 'tick':
        for (const master of Object.values(state.masters)) tell(master, { type: 'prompt' });
        return state;

      case 'command': {
        const { applicationName, ...request } = message;
        const actor = state.applications[applicationName];
        if (actor === undefined) reply(message.replyTo, failure(unknown(applicationName, 'application')));
        else tell(actor, request);
        return state;
      }

      case 'restart':
      case 'skip': {
        const { applicationName, ...request } = message;
        const master = state.masters[applicationName];
        if (master !== undefined) tell(master, request);
        else {
          const replyTo: ReplyTo<never> = message.replyTo;
          reply(replyTo, failure(unknown(applicationName, 'process application')));
        }
        return state;
      }

      case 'start-process': {
        // The cluster gave this member the slot: its master starts (and pulls), if it is not there.
        if (!system.followers.includes(message.applicationName)) {
          reply(message.replyTo, failure(unknown(message.applicationName, 'process application')));
          return state;
        }
        const existing = state.masters[message.applicationName];
        const master = existing ?? spawnMaster(ctx.self, message.applicationName);
        tell(master, { type: 'prompt' });
        reply(message.replyTo, ok(undefined));
        return existing !== undefined ? state : { ...state, masters: { ...state.masters, [message.applicationName]: master } };
      }

      case 'stop-process': {
        // The slot moves: the master drains (its run in flight finishes its batch) and stops.
        const master = state.masters[message.applicationName];
        const masters = { ...state.masters };
        delete masters[message.applicationName];
        await answer(message.replyTo, async () => {
          if (master === undefined) return;
          await ask<StopRequest, void>(master, (replyTo) => ({ type: 'stop', replyTo }), MAX_TIMEOUT_MS);
          stopActor(master);
        });
        return { ...state, masters };
      }

      case 'status':
        await answer(message.replyTo, () =>
          Promise.all(
            Object.values(state.masters).map((master) =>
              ask<MasterMessage, ProcessSnapshot>(master, (replyTo) => ({ type: 'status', replyTo }), deps.statusTimeoutMs),
            ),
          ),
        );
        return state;

      case 'stop': {
        const children: Array<ActorRef<StopRequest>> = [
          ...Object.values(state.masters),
          ...Object.values(state.applications),
        ];
        await answer(message.replyTo, async () => {
          // Each child answers once drained (a master after its run in flight, an application
          // actor after the commands before the request), and only then is it stopped.
          const results = await Promise.allSettled(
            children.map((child) =>
              ask<StopRequest, void>(child, (replyTo) => ({ type: 'stop', replyTo }), MAX_TIMEOUT_MS),
            ),
          );
          for (const child of children) stopActor(child);
          const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
          if (failed !== undefined) throw failed.reason;
        });
        return produce(state, (draft) => {
          draft.masters = {};
          draft.applications = {};
        });
      }
    }
  };

  return spawnActor<PipelineState, PipelineMessage>(parent, `pipeline-${pipelineId}`, behaviour, {
    initialState: { started: false, masters: {}, applications: {} },
    onCrash: (_message, error, ctx) => {
      deps.onFault(error);
      return ctx.resume;
    },
  });
}
