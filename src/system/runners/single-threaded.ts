import { retryTransient } from '../transient';
import type { Edge, Prompt } from './edge';
import { Runner } from './runner';

/** One leader's recording to follow, in the queue: the edges that follow it. */
interface Queued {
  readonly edges: readonly Edge[];
  /** The newest notification the leader recorded, which followers must see (their store waits for it). */
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
    this.#queue.push(prompt);
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
      for (const leaderName of this.system.leaders) this.#queue.push({ edges: this.edgesFollowing(leaderName, pipelineId) });
    }
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
      for (const { follower, upstreamName, pipelineId } of queued.edges) {
        this.processRunning(follower, pipelineId, true);
        try {
          await retryTransient(() => follower.pullAndProcess(upstreamName, { pipelineId, waitFor: queued.lastNotificationId }));
          this.processRunning(follower, pipelineId, false);
        } catch (error) {
          this.processFailed(follower, pipelineId, error, false);
        }
      }
    }
  }
}
