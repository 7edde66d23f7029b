import { AssertionError } from 'node:assert';
import type { Runner, RunnerStatus } from '../system';
import { describeError } from './expected-events';

export interface IdleOptions {
  /** How long to wait for the system to become idle (default 60 s). */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Waits until the system that `runner` runs is idle: every process of every pipeline has processed
 * everything its upstreams show, including what that processing produced (Runner.waitUntilIdle).
 * A processing error, a process that has failed, or the timeout rejects with an AssertionError
 * that carries the error as its `cause` and shows where every process stands (state, positions,
 * lag, restarts, last error), so that a test that fails says why.
 */
export async function untilIdle(runner: Runner, options: IdleOptions = {}): Promise<void> {
  try {
    await runner.waitUntilIdle(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  } catch (error) {
    let status: string;
    try {
      status = describeStatus(await runner.status());
    } catch (statusError) {
      status = `  (the status could not be read: ${describeError(statusError)})`;
    }
    const failure = new AssertionError({ message: `the system did not become idle: ${describeError(error)}\n${status}` });
    (failure as { cause?: unknown }).cause = error;
    throw failure;
  }
}

/**
 * Starts `runner`, calls `body` with it, then waits until the system is idle (see untilIdle: what
 * the body set going must be processed without failing), and stops the runner whatever happened
 * (an error of `body` or of the wait is the one that rejects; stopping rejects too if processing
 * failed unreported). Resolves with what `body` returned. A body that checks what followers did
 * awaits `untilIdle(runner)` first.
 */
export async function withRunner<R extends Runner, T>(runner: R, body: (runner: R) => T | Promise<T>, options: IdleOptions = {}): Promise<T> {
  await runner.start();
  let result: T;
  try {
    result = await body(runner);
    await untilIdle(runner, options);
  } catch (error) {
    await runner.stop().catch(() => undefined);
    throw error;
  }
  await runner.stop();
  return result;
}

/** The status of every process, one a line: `Counters (pipeline 0): idle, WorldsApplication at 3 of 5, ...`. */
export function describeStatus(status: RunnerStatus): string {
  const lines: string[] = [];
  for (const pipeline of status.pipelines) {
    for (const process of pipeline.processes) {
      const upstreams = process.upstreams.map((upstream) => `${upstream.upstreamName} at ${upstream.position ?? '?'} of ${upstream.head ?? '?'}`);
      const parts = [process.state, ...upstreams, `restarts ${process.restarts}`];
      if (process.pending) parts.push('prompted');
      if (process.lastError !== undefined) parts.push(`last error: ${process.lastError.message}`);
      lines.push(`  ${process.applicationName} (pipeline ${pipeline.pipelineId}): ${parts.join(', ')}`);
    }
  }
  return lines.length === 0 ? '  (no process applications)' : lines.join('\n');
}
