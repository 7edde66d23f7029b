/** Raised for a topic that is not registered, or for two classes claiming one topic. */
export class TopicError extends Error {
  override name = 'TopicError';
}

/** Raised when an event does not fit the aggregate it is applied to (wrong id or version). */
export class OriginatorError extends Error {
  override name = 'OriginatorError';
}

/** Raised when stored state cannot be brought up to a class's current version. */
export class UpcastError extends Error {
  override name = 'UpcastError';
}
