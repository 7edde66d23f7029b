import { EventSourcingError } from '../domain';

/** A projection's rebuild, reset or view could not go on (names why); nothing was half-written. */
export class ProjectionError extends EventSourcingError {
  override name = 'ProjectionError';
}
