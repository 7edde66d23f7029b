import type { Follower } from '../follower';

/** One follower's view of one upstream log in one pipeline. */
export interface Edge {
  readonly follower: Follower;
  readonly upstreamName: string;
  readonly pipelineId: number;
}

/** A leader recorded something in one pipeline: the edges that follow it there have something new. */
export interface Prompt {
  readonly leaderName: string;
  readonly pipelineId: number;
  readonly edges: readonly Edge[];
  /** How many notifications the leader recorded, and the id of the last one. */
  readonly count: number;
  readonly lastNotificationId: number;
}
