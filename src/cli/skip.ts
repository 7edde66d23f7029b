import type { Command } from 'commander';
import type { Follower } from '../system';
import { OpenApplications, requireApplication } from './applications';
import { loadSystem } from './load-system';

export interface SkipOptions {
  readonly system: string;
  readonly export: string;
  readonly upstream?: string;
  readonly pipeline: number;
  readonly notification: number;
  readonly reason: string;
}

/**
 * `eventsourcing-nact skip <app>`: moves the follower `app` past one notification of an upstream
 * without processing it, recording a SkippedNotification with the reason in the same write as the
 * tracking record, as a runner's skip does. It refuses (a SkipError, nothing written) when that
 * notification is not the next one to process.
 */
export async function skip(applicationName: string, options: SkipOptions, command: Command): Promise<void> {
  const { system } = loadSystem(options.system, options.export);
  requireApplication(command, system, applicationName);
  const upstreams = system.followsOf(applicationName);
  if (upstreams.length === 0) {
    command.error(`error: ${applicationName} follows nothing, so it has nothing to skip (the followers are: ${system.followers.join(', ') || 'none'})`);
  }
  const upstreamName = options.upstream ?? upstreams[0];
  if (options.upstream === undefined && upstreams.length > 1) {
    command.error(`error: ${applicationName} follows several applications: name one with --upstream (${upstreams.join(', ')})`);
  }
  if (!upstreams.includes(upstreamName)) {
    command.error(`error: ${applicationName} does not follow ${upstreamName} (it follows: ${upstreams.join(', ')})`);
  }
  const { pipeline: pipelineId, notification: notificationId } = options;
  const opened = new OpenApplications();
  try {
    const applications = opened.pipeline(system, pipelineId, [applicationName]);
    const follower = applications.get(applicationName) as Follower;
    await follower.skipNext(upstreamName, options.reason, { pipelineId, notificationId });
    const [skipped] = await applications.get(upstreamName)!.notificationLog.select(notificationId, 1, { pipelineId, stop: notificationId });
    const what = skipped === undefined ? '' : ` (${skipped.topic} v${skipped.originatorVersion} of ${skipped.originatorId})`;
    console.log(`${applicationName} skipped notification ${notificationId}${what} of ${upstreamName} in pipeline ${pipelineId}: ${options.reason}`);
  } finally {
    await opened.close();
  }
}
