import { RateLimitedLog, type Logger } from '../../observability/logger';
import { PolicyError } from '../errors';

/**
 * Warns when a process fails, so that a follower that cannot process is visible at once and not
 * only in a list of errors: at most one warning per process every few seconds, however often it
 * retries (the ones held back go to debug, and the next warning counts them).
 */
export class FailureWarnings {
  readonly #log: RateLimitedLog;

  constructor(logger: Logger) {
    this.#log = new RateLimitedLog(logger);
  }

  failed(applicationName: string, pipelineId: number, error: unknown, now = Date.now()): void {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const fields: Record<string, unknown> = { application: applicationName, pipelineId, err: error };
    if (error instanceof PolicyError) Object.assign(fields, { upstream: error.upstreamName, notificationId: error.notificationId });
    this.#log.log('warn', `${pipelineId}:${applicationName}`, fields, `${applicationName} (pipeline ${pipelineId}) failed to process: ${message}`, ['failure', 'failures'], now);
  }
}
