import { warn } from '../../application/warnings';

/** At most one warning per process in this window; the failures in between are counted in the next. */
const WARNING_INTERVAL_MS = 5000;

/**
 * Warns on stderr when a process fails, so that a follower that cannot process is visible at once
 * and not only in a list of errors: at most one warning per process every few seconds, however
 * often it retries.
 */
export class FailureWarnings {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  failed(applicationName: string, pipelineId: number, error: unknown, now = Date.now()): void {
    const key = `${pipelineId}:${applicationName}`;
    const last = this.#last.get(key);
    if (last !== undefined && now - last.at < WARNING_INTERVAL_MS) {
      last.suppressed += 1;
      return;
    }
    const since = last !== undefined && last.suppressed > 0 ? ` (and ${last.suppressed} more failure${last.suppressed === 1 ? '' : 's'} since the last warning)` : '';
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    warn(`${applicationName} (pipeline ${pipelineId}) failed to process: ${message}${since}`);
    this.#last.set(key, { at: now, suppressed: 0 });
  }
}
