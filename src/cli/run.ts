import { ActorRunner } from '../actors';
import { MultiprocessRunner, type Runner } from '../system';
import { loadSystem, parsePipelines } from './load-system';

export interface RunOptions {
  readonly system: string;
  readonly export: string;
  readonly runner: 'multiprocess' | 'actor';
  readonly pipelines: string;
  readonly cluster?: boolean;
  readonly isolation: 'process' | 'thread';
}

/** Logs a line to stdout: a time, what happened, its fields. */
function log(event: string, fields: Record<string, unknown> = {}): void {
  const rest = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  console.log(`${new Date().toISOString()} ${event}${rest ? ` ${rest}` : ''}`);
}

/**
 * `eventsourcing-nact run`: starts a runner over the system module, with the settings of the
 * environment (PERSISTENCE, POSTGRES_URL, ... as the applications read them), logs its slots as
 * they move, and drains on SIGTERM or SIGINT (exit 0; 1 when stopping reported an error).
 */
export async function run(options: RunOptions): Promise<void> {
  const { system, path } = loadSystem(options.system, options.export);
  const pipelineIds = parsePipelines(options.pipelines);
  let runner: Runner;
  if (options.runner === 'multiprocess') {
    runner = new MultiprocessRunner(system, {
      pipelineIds,
      systemModule: { path, exportName: options.export },
      isolation: options.isolation,
      cluster: options.cluster ? true : undefined,
      onClusterEvent: log,
    });
  } else {
    runner = new ActorRunner(system, { pipelineIds, cluster: options.cluster ? true : undefined, onClusterEvent: log });
  }
  await runner.start();
  log('running', { runner: options.runner, pipelines: pipelineIds.join(','), processes: system.followers.join(',') || 'none', pid: process.pid });
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      log('stopping');
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await runner.stop();
  log('stopped');
}
