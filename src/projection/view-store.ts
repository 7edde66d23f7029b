import type { DomainEvent } from '../domain';
import type { Tracking, TrackingPosition } from '../persistence';
import type { View, ViewReader } from './view';

/** How far a generation being built has got: notification id by `<pipelineId>:<upstream>`. */
export type BuildPositions = Readonly<Record<string, number>>;

export function positionKey(upstreamName: string, pipelineId: number): string {
  return `${pipelineId}:${upstreamName}`;
}

/** A build's positions as tracking rows (those past the start). */
export function trackingOf(positions: BuildPositions): TrackingPosition[] {
  return Object.entries(positions)
    .filter(([, notificationId]) => notificationId > 0)
    .map(([key, notificationId]) => {
      const colon = key.indexOf(':');
      return { pipelineId: Number(key.slice(0, colon)), applicationName: key.slice(colon + 1), notificationId };
    });
}

/** The same positions, written the same way every time (compared as text by the build's compare-and-set). */
export function positionsText(positions: BuildPositions): string {
  return JSON.stringify(Object.fromEntries(Object.entries(positions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

export interface BuildStarted {
  readonly generation: number;
  readonly positions: BuildPositions;
  /** Whether it carries on a build that was interrupted. */
  readonly resumed: boolean;
}

export type SwitchOutcome =
  | { readonly switched: true; readonly retired?: number }
  /** The live generation has processed further than the build: `behind` names where. */
  | { readonly switched: false; readonly behind: readonly string[] };

/**
 * Where a projection keeps its view, in generations: one live generation (which readers see and
 * the projection's processing writes, with the tracking records in the same transaction), and at
 * most one being built beside it by a rebuild (with its positions in the same transaction as its
 * writes), which a switch makes live atomically. The same operations on every store.
 */
export interface ViewStore {
  readonly reader: ViewReader;
  /** The view, for its query methods (its update is called by the store). */
  readonly view: View;
  /** Makes the registry and a live generation if there are none (once per process; concurrent callers agree). */
  ready(): Promise<void>;
  /** In one transaction: moves the tracking record and applies the events to the live generation. */
  applyLive(tracking: Tracking, events: readonly DomainEvent[]): Promise<void>;
  /** A new generation to build (or the one an interrupted rebuild left). */
  startBuild(): Promise<BuildStarted>;
  /** In one transaction: moves the build's positions from `before` to `after` and applies the events to it. */
  applyBuild(generation: number, before: BuildPositions, after: BuildPositions, events: readonly DomainEvent[]): Promise<void>;
  /**
   * In one transaction, once the build has processed at least what the live generation has: the
   * tracking records become the build's positions, readers' names point at its tables, it is live.
   */
  trySwitch(generation: number): Promise<SwitchOutcome>;
  /** Drops the tables of generations that are no longer live; says which. */
  dropRetired(): Promise<number[]>;
  /** Clears the view and its tracking: a new empty live generation; resolves with its number. */
  reset(): Promise<number>;
  /** The live generation's number and the version of the view class that built it. */
  live(): Promise<{ readonly generation: number; readonly version: number }>;
}
