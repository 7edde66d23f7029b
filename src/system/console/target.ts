import type { RunnerStatus } from '../runners/status';

/** The shape of a system the console draws: its applications and who follows whom. */
export interface ConsoleTopologySource {
  readonly applicationNames: readonly string[];
  /** The upstream applications `name` follows (none for an application that only leads). */
  followsOf(name: string): readonly string[];
}

/**
 * What a console shows and acts on: a runner, seen through what the console needs of it (the
 * Runner passes one for itself; anything else that answers these can be served too).
 */
export interface ConsoleTarget {
  readonly system: ConsoleTopologySource;
  /** The pipelines it runs (requests for others are refused). */
  readonly pipelineIds: readonly number[];
  status(): Promise<RunnerStatus>;
  /** Has a process look again for work from its tracking positions (takes it out of `failed`). */
  restart?(applicationName: string, pipelineId: number): Promise<void>;
  /**
   * Skips the notification a process failed on, only if it is `notificationId` of `upstreamName`
   * (else rejects, nothing written); resolves with its id.
   */
  skip?(applicationName: string, pipelineId: number, upstreamName: string, notificationId: number, reason: string): Promise<number>;
}
