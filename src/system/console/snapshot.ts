import type { FollowerKind } from '../follower';
import type { ProcessStatus, RunnerStatus } from '../runners/status';

/** One process as the page sees it (plain JSON: errors by name and message only). */
export interface ConsoleProcess {
  readonly applicationName: string;
  readonly pipelineId: number;
  /** What the process writes: events of its own ('process'), or a view ('projection'). */
  readonly kind: FollowerKind;
  readonly state: string;
  readonly restarts: number;
  readonly runs: number;
  readonly pending: boolean;
  readonly pid?: number;
  readonly upstreams: ReadonlyArray<{ upstreamName: string; position: number | null; head: number | null; lag: number | null; error?: string }>;
  readonly lag: number | null;
  readonly lastError?: { message: string; name: string; at: number; upstreamName?: string; notificationId?: number };
}

/** A status as the console sends it: when it was read, and every process of every pipeline. */
export interface ConsoleSnapshot {
  readonly at: number;
  readonly processes: readonly ConsoleProcess[];
}

export function statusSnapshot(status: RunnerStatus, at: number): ConsoleSnapshot {
  return { at, processes: status.pipelines.flatMap((pipeline) => pipeline.processes.map(processSnapshot)) };
}

function processSnapshot(process: ProcessStatus): ConsoleProcess {
  const { applicationName, pipelineId, kind, state, restarts, runs, pending, pid, lag, lastError } = process;
  const upstreams = process.upstreams.map(({ upstreamName, position, head, lag, error }) => ({
    upstreamName,
    position,
    head,
    lag,
    ...(error === undefined ? {} : { error: `${error.name}: ${error.message}` }),
  }));
  return {
    applicationName,
    pipelineId,
    kind,
    state,
    restarts,
    runs,
    pending,
    ...(pid === undefined ? {} : { pid }),
    upstreams,
    lag,
    ...(lastError === undefined
      ? {}
      : {
          lastError: {
            message: lastError.message,
            name: lastError.error?.name ?? 'Error',
            at: lastError.at,
            ...(lastError.upstreamName === undefined ? {} : { upstreamName: lastError.upstreamName }),
            ...(lastError.notificationId === undefined ? {} : { notificationId: lastError.notificationId }),
          },
        }),
  };
}
