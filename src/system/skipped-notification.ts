import { v5 as uuid5 } from 'uuid';
import { Aggregate, AggregateCreated, register } from '../domain';

const NAMESPACE = 'b7f3b9a6-4a57-4d36-9f0b-6a5f0c1a8e21';

/**
 * The record that a follower skipped one upstream notification instead of processing it (an
 * operator's decision, after its policy kept failing). It is recorded with the tracking record that
 * moves past the notification, so a skip is never silent: it stands in the follower's own log.
 */
export class SkippedNotification extends Aggregate {
  upstreamName = '';
  notificationId = 0;
  pipelineId = 0;
  reason = '';

  static override topic = 'eventsourcing:SkippedNotification';

  static Recorded = class Recorded extends AggregateCreated<SkippedNotification> {
    declare readonly upstreamName: string;
    declare readonly notificationId: number;
    declare readonly pipelineId: number;
    declare readonly reason: string;

    apply(skipped: SkippedNotification): void {
      skipped.upstreamName = this.upstreamName;
      skipped.notificationId = this.notificationId;
      skipped.pipelineId = this.pipelineId;
      skipped.reason = this.reason;
    }
  };

  /** One id per follower, upstream, pipeline and notification: a notification is skipped at most once. */
  static idFor(followerName: string, upstreamName: string, pipelineId: number, notificationId: number): string {
    return uuid5(`${followerName}/${upstreamName}/${pipelineId}/${notificationId}`, NAMESPACE);
  }

  static record(followerName: string, upstreamName: string, pipelineId: number, notificationId: number, reason: string): SkippedNotification {
    return SkippedNotification._create(SkippedNotification.Recorded, {
      id: SkippedNotification.idFor(followerName, upstreamName, pipelineId, notificationId),
      upstreamName,
      notificationId,
      pipelineId,
      reason,
    });
  }
}

register(SkippedNotification);
