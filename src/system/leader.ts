import { Application } from '../application';
import type { Follower } from './follower';

/**
 * An application that others follow. Every application can lead (runners subscribe to what it
 * records); `lead` wires a follower by hand, without a runner: what this application records is
 * then processed by the follower before `save` resolves.
 */
export class Leader extends Application {
  lead(follower: Follower): () => void {
    follower.follow(this.name, this.recorder, this.mapper);
    return this.onRecorded(async (_recordings, pipelineId) => {
      await follower.pullAndProcess(this.name, { pipelineId });
    });
  }
}
