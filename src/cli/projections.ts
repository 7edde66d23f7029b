import type { Command } from 'commander';
import { Projection, type RebuildProgress } from '../projection';
import type { System } from '../system';
import { OpenApplications, requireApplication } from './applications';
import { loadSystem, parsePipelines } from './load-system';

export interface ResetOptions {
  readonly system: string;
  readonly export: string;
  readonly yes?: boolean;
}

export interface RebuildOptions {
  readonly system: string;
  readonly export: string;
  readonly pipelines: string;
  readonly batchSize: number;
}

/** Fails the command with its usage unless `name` is a projection of the system (naming those it has). */
function requireProjection(command: Command, system: System, name: string): void {
  requireApplication(command, system, name);
  if (!(system.classOf(name).prototype instanceof Projection)) {
    const projections = system.applicationNames.filter((each) => system.classOf(each).prototype instanceof Projection);
    command.error(`error: ${name} is not a projection (the projections are: ${projections.join(', ') || 'none'})`);
  }
}

/**
 * `eventsourcing-nact reset <projection> --yes`: clears the projection's view and its tracking (a
 * new, empty generation; the old one dropped), for development: wherever the projection runs, it
 * processes its logs again from the beginning.
 */
export async function reset(projectionName: string, options: ResetOptions, command: Command): Promise<void> {
  const { system } = loadSystem(options.system, options.export);
  requireProjection(command, system, projectionName);
  if (!options.yes) command.error(`error: reset clears the view of ${projectionName} and its tracking: say --yes to do it`);
  const opened = new OpenApplications();
  try {
    const projection = opened.open(system, projectionName, 0) as Projection;
    const generation = await projection.reset();
    console.log(`${projectionName}: reset; its view is generation ${generation}, empty, and its tracking is cleared`);
  } finally {
    await opened.close();
  }
}

/**
 * `eventsourcing-nact rebuild <projection>`: builds a new generation of the projection's view from
 * the start of its logs beside the live one (which keeps running and being read), then switches to
 * it atomically, with a progress bar on stderr. Interrupted (SIGINT, SIGTERM), it stops after the
 * batch in flight, and the next rebuild carries on from there.
 */
export async function rebuild(projectionName: string, options: RebuildOptions, command: Command): Promise<void> {
  const { system } = loadSystem(options.system, options.export);
  requireProjection(command, system, projectionName);
  const pipelineIds = parsePipelines(options.pipelines);
  const opened = new OpenApplications();
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const bar = progressBar();
  try {
    const projection = opened.pipeline(system, pipelineIds[0], [projectionName]).get(projectionName) as Projection;
    const report = await projection.rebuild({ pipelineIds, batchSize: options.batchSize, signal: abort.signal, onProgress: bar.update });
    bar.stop();
    if (report.aborted) {
      console.log(`${projectionName}: rebuild of generation ${report.generation} interrupted after ${report.applied} notifications; the next rebuild carries on from there`);
      process.exitCode = 130;
      return;
    }
    const resumed = report.resumed ? ' (carrying on an interrupted rebuild)' : '';
    const retired = report.retired === undefined ? '' : `, generation ${report.retired} dropped`;
    console.log(`${projectionName}: rebuilt as generation ${report.generation} from ${report.applied} notifications${resumed}; readers switched${retired}`);
  } finally {
    bar.stop();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await opened.close();
  }
}

/** A progress bar on stderr (cli-progress, loaded by the command that draws it); lines every half second when stderr is not a terminal. */
function progressBar(): { update(progress: RebuildProgress): void; stop(): void } {
  const { SingleBar, Presets } = require('cli-progress') as typeof import('cli-progress');
  const bar = new SingleBar(
    {
      format: 'rebuilding generation {generation} [{bar}] {percentage}% | {applied} notifications | {phase}',
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 500,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update: (progress) => {
      const values = { generation: progress.generation, applied: progress.applied, phase: progress.phase };
      const done = Math.round(progress.fraction * 1000);
      if (!started) {
        bar.start(1000, done, values);
        started = true;
      } else bar.update(done, values);
    },
    stop: () => {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
