import type { Notification } from '../../persistence';
import { RunnerError } from '../errors';
import type { Follower } from '../follower';
import type { System } from '../system';
import type { Edge, Prompt } from './edge';
import { Runner, RunnerOptions } from './runner';

export interface SteppingRunnerOptions extends RunnerOptions {
  /** Ticks per second of simulated time (default 1). */
  normalSpeed?: number;
  /** How many times faster than real time the clock runs (default 1). */
  scaleFactor?: number;
  /**
   * Wall-clock milliseconds between the starts of two ticks; default 1000 / (normalSpeed ×
   * scaleFactor). `null` runs no clock: the system moves only when `step()` is called.
   */
  tickIntervalMs?: number | null;
  /** Most notifications a follower fetches from one upstream in one tick (default 10,000). */
  fetchLimit?: number;
}

interface Scheduled {
  readonly command: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * Runs the system to a clock, as a simulation does. In every tick, every follower first fetches
 * what is new upstream, and only then does every follower process what it fetched, so nothing made
 * in a tick is seen by another process in the same tick. Commands can be scheduled for a future
 * tick; `step()` runs one tick by hand (with `tickIntervalMs: null` only by hand, deterministically).
 */
export abstract class SteppingRunner extends Runner {
  readonly tickIntervalMs: number | null;
  readonly fetchLimit: number;
  #tick = 0;
  #stepping: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #clockRunning = false;
  readonly #scheduled = new Map<number, Scheduled[]>();
  readonly #tickWaiters: Array<() => void> = [];

  constructor(system: System, options: SteppingRunnerOptions = {}) {
    super(system, options);
    const normalSpeed = options.normalSpeed ?? 1;
    const scaleFactor = options.scaleFactor ?? 1;
    if (!(normalSpeed > 0) || !(scaleFactor > 0)) {
      throw new RunnerError(`normalSpeed and scaleFactor must be positive, got ${normalSpeed} and ${scaleFactor}`);
    }
    this.tickIntervalMs = options.tickIntervalMs === undefined ? 1000 / (normalSpeed * scaleFactor) : options.tickIntervalMs;
    if (this.tickIntervalMs !== null && !(this.tickIntervalMs >= 0)) {
      throw new RunnerError(`tickIntervalMs must be a number >= 0 or null, got ${String(options.tickIntervalMs)}`);
    }
    this.fetchLimit = options.fetchLimit ?? 10_000;
  }

  /** The number of ticks completed. */
  get tick(): number {
    return this.#tick;
  }

  protected async startScheduling(): Promise<void> {
    if (this.tickIntervalMs !== null) {
      this.#clockRunning = true;
      this.scheduleTick(0);
    }
  }

  /** Prompts change nothing: followers fetch at each tick. */
  protected prompted(_prompt: Prompt): void {}

  /** Every tick looks at every edge anyway. */
  protected nudge(): void {}

  protected async stopScheduling(): Promise<void> {
    this.#clockRunning = false;
    clearTimeout(this.#timer);
    await this.#stepping;
    for (const [, commands] of this.#scheduled) {
      for (const scheduled of commands) scheduled.reject(new RunnerError('the runner stopped before the command’s tick'));
    }
    this.#scheduled.clear();
  }

  /** Runs one tick now (after any tick in progress); resolves when it is complete. */
  step(): Promise<void> {
    if (!this.isRunning) return Promise.reject(new RunnerError('the runner is not running'));
    const next = this.#stepping.then(() => this.runOneTick());
    this.#stepping = next.catch(() => undefined);
    return next;
  }

  /** Runs `command` at the start of tick number `tick` (a future one); resolves with its result. */
  schedule<T>(tick: number, command: () => T | Promise<T>): Promise<Awaited<T>> {
    if (!Number.isSafeInteger(tick) || tick <= this.#tick) {
      return Promise.reject(new RunnerError(`tick ${tick} is not in the future (tick ${this.#tick} is complete)`));
    }
    return new Promise((resolve, reject) => {
      const list = this.#scheduled.get(tick) ?? [];
      list.push({ command, resolve: resolve as (value: unknown) => void, reject });
      this.#scheduled.set(tick, list);
    });
  }

  protected override waitingWork(): string | undefined {
    return this.#scheduled.size > 0 ? 'commands are still scheduled' : undefined;
  }

  /** Between looks, waitUntilIdle lets a tick pass: with no clock, it steps. */
  protected override async pause(_ms: number, deadline: number): Promise<void> {
    if (this.tickIntervalMs === null) await this.step();
    else await this.nextTick(deadline - Date.now());
  }

  /** One tick's work for the followers: fetch everything, then process everything. */
  protected abstract runTick(edges: readonly Edge[]): Promise<void>;

  protected async fetch(edge: Edge): Promise<Notification[]> {
    try {
      return await edge.follower.pull(edge.upstreamName, { pipelineId: edge.pipelineId, limit: this.fetchLimit });
    } catch (error) {
      this.processFailed(edge.follower, edge.pipelineId, error, true); // the next tick tries again
      return [];
    }
  }

  protected async process(edge: Edge, notifications: readonly Notification[]): Promise<void> {
    if (notifications.length === 0) return;
    this.processRunning(edge.follower, edge.pipelineId, true);
    try {
      await edge.follower.processNotifications(edge.upstreamName, notifications, { pipelineId: edge.pipelineId });
      this.processRunning(edge.follower, edge.pipelineId, false);
    } catch (error) {
      this.processFailed(edge.follower, edge.pipelineId, error, true); // the next tick tries again
    }
  }

  private async runOneTick(): Promise<void> {
    const tick = this.#tick + 1;
    const commands = this.#scheduled.get(tick) ?? [];
    this.#scheduled.delete(tick);
    for (const scheduled of commands) {
      try {
        scheduled.resolve(await scheduled.command());
      } catch (error) {
        scheduled.reject(error);
      }
    }
    await this.runTick(this.edges);
    this.#tick = tick;
    for (const wake of this.#tickWaiters.splice(0)) wake();
  }

  private scheduleTick(delayMs: number): void {
    this.#timer = setTimeout(async () => {
      if (!this.#clockRunning) return;
      const started = Date.now();
      await this.step().catch((error: unknown) => this.recordError(error));
      if (this.#clockRunning) this.scheduleTick(Math.max(0, this.tickIntervalMs! - (Date.now() - started)));
    }, delayMs);
  }

  private nextTick(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(timeoutMs, 0));
      this.#tickWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Fetches and processes for one follower after another, in one loop. */
export class SteppingSingleThreadedRunner extends SteppingRunner {
  protected async runTick(edges: readonly Edge[]): Promise<void> {
    const fetched: Array<[Edge, Notification[]]> = [];
    for (const edge of edges) fetched.push([edge, await this.fetch(edge)]);
    for (const [edge, notifications] of fetched) await this.process(edge, notifications);
  }
}

/** Every follower fetches concurrently; when all have fetched, every follower processes concurrently. */
export class SteppingMultiThreadedRunner extends SteppingRunner {
  protected async runTick(edges: readonly Edge[]): Promise<void> {
    const byFollower = new Map<Follower, Edge[]>();
    for (const edge of edges) byFollower.set(edge.follower, [...(byFollower.get(edge.follower) ?? []), edge]);
    const groups = [...byFollower.values()];
    const fetched = await Promise.all(
      groups.map(async (group) => {
        const lists: Array<[Edge, Notification[]]> = [];
        for (const edge of group) lists.push([edge, await this.fetch(edge)]);
        return lists;
      }),
    );
    // The barrier: nobody processes before everybody has fetched.
    await Promise.all(
      fetched.map(async (lists) => {
        for (const [edge, notifications] of lists) await this.process(edge, notifications);
      }),
    );
  }
}
