import type { Recording } from '../../application';
import { RunnerError } from '../errors';
import type { Follower } from '../follower';
import { retryTransient } from '../transient';
import { Runner, sleep } from './runner';

interface Prompt {
  readonly leaderName: string;
  readonly pipelineId: number;
  /** The newest notification the leader recorded, which followers must be able to see. */
  readonly lastNotificationId?: number;
}

/** How long a prompt waits for its leader's write to become visible to readers (PostgreSQL). */
const VISIBILITY_TIMEOUT_MS = 30_000;

/**
 * Runs the whole system in the caller's turn: when a command's `save` resolves, every follower
 * downstream has processed what it recorded, transitively. Prompts are queued, not recursed into,
 * so long chains and cycles cannot exhaust the stack. Transient failures downstream (the database
 * unreachable, a connection cut) are retried a few times; a failure that remains, or a policy
 * that fails, rejects the command that led to it with DownstreamProcessingError (the command is
 * recorded: its `cause` says what failed), and processing resumes from tracking at the next prompt.
 */
export class SingleThreadedRunner extends Runner {
  readonly #queue: Prompt[] = [];
  #draining: Promise<void> | undefined;
  readonly #unsubscribes: Array<() => void> = [];

  protected async startRunning(): Promise<void> {
    for (const leaderName of this.system.leaders) {
      const leader = this.application(leaderName);
      this.#unsubscribes.push(
        leader.onRecorded((recordings, pipelineId) => this.prompt(leaderName, pipelineId, recordings)),
      );
      this.#queue.push({ leaderName, pipelineId: 0 });
    }
    // Catch up with whatever was recorded while nothing ran.
    await this.prompted(this.errors.length);
  }

  protected async stopRunning(): Promise<void> {
    for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
    await this.#draining?.catch(() => undefined);
  }

  private prompt(leaderName: string, pipelineId: number, recordings: readonly Recording[]): Promise<void> {
    const lastNotificationId = Math.max(...recordings.map((recording) => recording.notificationId));
    const failuresBefore = this.errors.length;
    this.#queue.push({ leaderName, pipelineId, lastNotificationId });
    return this.prompted(failuresBefore);
  }

  /** Drains the queue; rejects with the first failure that happened after `failuresBefore`. */
  private async prompted(failuresBefore: number): Promise<void> {
    this.#draining ??= this.drain().finally(() => {
      this.#draining = undefined;
    });
    await this.#draining;
    const failure = this.reportErrorsSince(failuresBefore);
    if (failure !== undefined) throw failure;
  }

  private async drain(): Promise<void> {
    for (let prompt = this.#queue.shift(); prompt !== undefined; prompt = this.#queue.shift()) {
      const followers = this.system.leadsOf(prompt.leaderName);
      if (followers.length === 0) continue;
      try {
        if (prompt.lastNotificationId !== undefined && !this.application(prompt.leaderName).recorder.visibleOnWrite) {
          await retryTransient(() => this.waitUntilVisible(prompt));
        }
      } catch (error) {
        this.recordError(error);
        continue;
      }
      for (const followerName of followers) {
        const follower = this.application(followerName) as Follower;
        this.processRunning(follower, prompt.pipelineId, true);
        try {
          await retryTransient(() => follower.pullAndProcess(prompt.leaderName, { pipelineId: prompt.pipelineId }));
          this.processRunning(follower, prompt.pipelineId, false);
        } catch (error) {
          this.processFailed(follower, prompt.pipelineId, error, false);
        }
      }
    }
  }

  /**
   * On PostgreSQL a committed write can stay invisible to readers for a moment, while an older
   * transaction of anyone's is still running; a follower pulling then would miss it for now.
   */
  private async waitUntilVisible(prompt: Prompt): Promise<void> {
    const leader = this.application(prompt.leaderName);
    const deadline = Date.now() + VISIBILITY_TIMEOUT_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      const [first] = await leader.recorder.selectNotifications(prompt.lastNotificationId!, 1, {
        pipelineId: prompt.pipelineId,
      });
      if (first !== undefined && first.id === prompt.lastNotificationId) return;
      if (Date.now() > deadline) {
        throw new RunnerError(
          `notification ${prompt.lastNotificationId} of ${prompt.leaderName} did not become visible within ${VISIBILITY_TIMEOUT_MS} ms`,
        );
      }
      await sleep(wait);
    }
  }
}
