import { retryTransient } from '../transient';
import { Edge, Prompt, Runner, sleep } from './runner';
import { RunnerError } from '../errors';

/** How long a prompt waits for its leader's write to become visible to readers (PostgreSQL). */
const VISIBILITY_TIMEOUT_MS = 30_000;

/** One leader's recording to follow, in the queue. */
interface Queued {
  readonly leaderName: string;
  readonly pipelineId: number;
  readonly edges: readonly Edge[];
  /** The newest notification the leader recorded, which followers must be able to see. */
  readonly lastNotificationId?: number;
}

/**
 * Runs the whole system in the caller's turn: when a command's `save` resolves, every follower
 * downstream has processed what it recorded, transitively. Prompts are queued, not recursed into,
 * so long chains and cycles cannot exhaust the stack. Transient failures downstream (the database
 * unreachable, a connection cut) are retried a few times; a failure that remains, or a policy
 * that fails, rejects the command that led to it with DownstreamProcessingError (the command is
 * recorded: its `cause` says what failed), and processing resumes from tracking at the next prompt.
 */
export class SingleThreadedRunner extends Runner {
  readonly #queue: Queued[] = [];
  #draining: Promise<void> | undefined;

  protected async startScheduling(): Promise<void> {
    // Catch up with whatever was recorded while nothing ran.
    this.queueEveryLeader();
    await this.drained(this.errors.length);
  }

  protected async stopScheduling(): Promise<void> {
    await this.#draining?.catch(() => undefined);
  }

  protected prompted(prompt: Prompt): Promise<void> {
    const failuresBefore = this.errors.length;
    this.queue(prompt);
    return this.drained(failuresBefore);
  }

  protected nudge(): void {
    this.queueEveryLeader();
    void this.drained(this.errors.length).catch(() => undefined);
  }

  protected override waitingWork(): string | undefined {
    return this.#draining !== undefined || this.#queue.length > 0 ? 'still processing what was recorded' : undefined;
  }

  private queueEveryLeader(): void {
    for (const pipelineId of this.pipelineIds) {
      for (const leaderName of this.system.leaders) this.queue({ leaderName, pipelineId, edges: this.edgesFollowing(leaderName, pipelineId) });
    }
  }

  private queue(queued: Queued): void {
    this.#queue.push(queued);
  }

  /** Drains the queue; rejects with the first failure that happened after `failuresBefore`. */
  private async drained(failuresBefore: number): Promise<void> {
    this.#draining ??= this.drain().finally(() => {
      this.#draining = undefined;
    });
    await this.#draining;
    const failure = this.reportErrorsSince(failuresBefore);
    if (failure !== undefined) throw failure;
  }

  private async drain(): Promise<void> {
    for (let queued = this.#queue.shift(); queued !== undefined; queued = this.#queue.shift()) {
      if (queued.edges.length === 0) continue;
      try {
        if (queued.lastNotificationId !== undefined && !this.application(queued.leaderName, queued.pipelineId).recorder.visibleOnWrite) {
          await retryTransient(() => this.waitUntilVisible(queued));
        }
      } catch (error) {
        this.recordError(error);
        continue;
      }
      for (const { follower, upstreamName, pipelineId } of queued.edges) {
        this.processRunning(follower, pipelineId, true);
        try {
          await retryTransient(() => follower.pullAndProcess(upstreamName, { pipelineId }));
          this.processRunning(follower, pipelineId, false);
        } catch (error) {
          this.processFailed(follower, pipelineId, error, false);
        }
      }
    }
  }

  /**
   * On PostgreSQL a committed write can stay invisible to readers for a moment, while an older
   * transaction of anyone's is still running; a follower pulling then would miss it for now.
   */
  private async waitUntilVisible(queued: Queued): Promise<void> {
    const leader = this.application(queued.leaderName, queued.pipelineId);
    const deadline = Date.now() + VISIBILITY_TIMEOUT_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      const [first] = await leader.recorder.selectNotifications(queued.lastNotificationId!, 1, { pipelineId: queued.pipelineId });
      if (first !== undefined && first.id === queued.lastNotificationId) return;
      if (Date.now() > deadline) {
        throw new RunnerError(
          `notification ${queued.lastNotificationId} of ${queued.leaderName} did not become visible within ${VISIBILITY_TIMEOUT_MS} ms`,
        );
      }
      await sleep(wait);
    }
  }
}
