import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { ActorRunner } from '../actors';
import { ConfigurationError } from '../domain';
import { MultiprocessRunner, type Runner } from '../system';
import { loadSystem, parsePipelines } from './load-system';

export interface ConsoleCommandOptions {
  readonly system: string;
  readonly export: string;
  readonly runner: 'multiprocess' | 'actor';
  readonly pipelines: string;
  readonly port: string;
  readonly host: string;
  /** The secret for actions; false (--no-token) for a read-only console; undefined: a random one. */
  readonly token?: string | false;
}

/**
 * `eventsourcing-nact console`: starts a runner over the system module (as `run` does, with the
 * settings of the environment) and serves its live console, printing the page's address (with
 * the token, made at random unless --token names one); stops on SIGTERM or SIGINT.
 */
export async function consoleCommand(options: ConsoleCommandOptions): Promise<void> {
  const { system, path } = loadSystem(options.system, options.export);
  const pipelineIds = parsePipelines(options.pipelines);
  const port = Number(options.port);
  if (!/^\d+$/.test(options.port) || port > 65_535) throw new ConfigurationError(`--port must be a port number (0: any free one), got '${options.port}'`);
  const token = options.token ?? randomBytes(18).toString('base64url');
  const runner: Runner =
    options.runner === 'actor'
      ? new ActorRunner(system, { pipelineIds })
      : new MultiprocessRunner(system, { pipelineIds, systemModule: { path, exportName: options.export } });
  await runner.start();
  try {
    const server = await runner.console({ port, host: options.host, token });
    console.log(`console of ${options.system} (${options.runner} runner, pipelines ${pipelineIds.join(',')}): ${server.url}${token === false ? ' (read-only)' : `?token=${encodeURIComponent(token)}`}`);
    await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
    console.log('stopping');
  } finally {
    await runner.stop();
  }
}
