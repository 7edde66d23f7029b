import type { Follower } from '../system';
import type { MasterMessage, SlaveMessage } from './protocols';
import { answer, spawnActor, tell, type ActorRef, type ParentRef } from './refs';

export interface SlaveDependencies {
  readonly follower: Follower;
  readonly pipelineId: number;
  readonly master: ActorRef<MasterMessage>;
  /** Aborted when the master is told to stop: a run in flight ends after its current batch. */
  readonly stopping: AbortSignal;
}

/**
 * ProcessSlave: does the I/O of one process application in one pipeline, so that its master stays
 * free to answer. A `run` pulls every upstream log from the follower's durable tracking position
 * and applies the policy (Follower.pullAndProcess), then tells the master. A run that throws crashes
 * the slave: its crash handler tells the master, and nact stops it; the master decides when a new
 * slave starts. Nothing is lost or done twice by a crash: what was processed is recorded with its
 * tracking record, and a new run starts from what is recorded.
 */
export function spawnProcessSlave(parent: ParentRef, name: string, deps: SlaveDependencies): ActorRef<SlaveMessage> {
  const { follower, pipelineId, master, stopping } = deps;
  return spawnActor<null, SlaveMessage>(
    parent,
    name,
    async (state, message) => {
      switch (message.type) {
        case 'run': {
          for (const upstreamName of follower.upstreamNames) await follower.pullAndProcess(upstreamName, { pipelineId, signal: stopping });
          tell(master, { type: 'run-finished', runId: message.runId });
          return state;
        }
        case 'skip': {
          // Skips only the notification named: the follower refuses (SkipError) if another is next.
          const { upstreamName, notificationId, reason } = message;
          await answer(message.replyTo, async () => {
            await follower.skipNext(upstreamName, reason, { pipelineId, notificationId });
            return notificationId;
          });
          return state;
        }
      }
    },
    {
      initialState: null,
      onCrash: (message, error, ctx) => {
        if (message?.type === 'run') tell(master, { type: 'slave-crashed', runId: message.runId, error, positions: follower.knownPositions(pipelineId) });
        return ctx.stop;
      },
    },
  );
}
