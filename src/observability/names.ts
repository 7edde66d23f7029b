// The names of what the package reports to OpenTelemetry, in the style of its semantic conventions.

/** The instrumentation scope (tracer and meter name) of every span and instrument. */
export const TELEMETRY_SCOPE = 'eventsourcing-nact';

/** The attributes of spans and metrics. */
export const TELEMETRY_ATTRIBUTES = Object.freeze({
  /** The application that saves, or the follower that processes. */
  application: 'eventsourcing.application',
  pipelineId: 'eventsourcing.pipeline.id',
  /** The log a follower processes. */
  upstream: 'eventsourcing.upstream',
  /** Events in a save. */
  eventsCount: 'eventsourcing.events.count',
  /** The notification a policy call processes. */
  notificationId: 'eventsourcing.notification.id',
  /** The first and last notification a save recorded, or a batch holds. */
  firstNotificationId: 'eventsourcing.notification.first_id',
  lastNotificationId: 'eventsourcing.notification.last_id',
  /** The topic of the event a policy call processes. */
  topic: 'eventsourcing.event.topic',
  /** Notifications in a batch, and how many of them were processed (fewer when a policy failed). */
  batchCount: 'eventsourcing.batch.notification_count',
  batchProcessed: 'eventsourcing.batch.processed_count',
});

/** The metrics. */
export const TELEMETRY_METRICS = Object.freeze({
  /** Counter: events recorded by an application (commands' and followers'), by application and pipeline. */
  eventsRecorded: 'eventsourcing.events.recorded',
  /** Counter: notifications processed, by follower, upstream and pipeline. */
  notificationsProcessed: 'eventsourcing.notifications.processed',
  /** Gauge: notifications a follower has not yet processed, by follower, upstream and pipeline. */
  followerLag: 'eventsourcing.follower.lag',
  /** Counter: restarts of a process after a failure, by application and pipeline. */
  restarts: 'eventsourcing.process.restarts',
});
