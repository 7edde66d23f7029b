/** No aggregate with this id (at this version) is recorded. */
export class AggregateNotFound extends Error {
  override name = 'AggregateNotFound';

  constructor(
    readonly aggregateId: string,
    readonly version?: number,
  ) {
    super(
      version === undefined
        ? `aggregate ${aggregateId} not found`
        : `aggregate ${aggregateId} not found at version ${version}`,
    );
  }
}

/** An application was asked for something its configuration does not allow. */
export class ApplicationError extends Error {
  override name = 'ApplicationError';
}
