import { EventSourcingError } from '../domain';

/** A system definition that cannot work (names the class or application at fault). */
export class SystemDefinitionError extends EventSourcingError {
  override name = 'SystemDefinitionError';
}

/** A policy failed on a notification: nothing of its results was recorded. */
export class PolicyError extends EventSourcingError {
  override name = 'PolicyError';

  constructor(
    readonly applicationName: string,
    readonly upstreamName: string,
    readonly notificationId: number,
    readonly pipelineId: number,
    override readonly cause: unknown,
  ) {
    super(
      `${applicationName} failed to process notification ${notificationId} of ${upstreamName} ` +
        `(pipeline ${pipelineId}): ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

/** A runner was used in a state that does not allow it (not started, stopped, unknown application). */
export class RunnerError extends EventSourcingError {
  override name = 'RunnerError';
}

/** A skip of a notification that is no longer the next one to process: nothing was written. */
export class SkipError extends EventSourcingError {
  override name = 'SkipError';
}
