import { InvalidArgumentError, type Command } from 'commander';
import type { Application } from '../application';
import type { Follower, System } from '../system';
import { parsePipelines } from './load-system';

/**
 * The applications a command opens, each made as its class makes it in one pipeline (settings from
 * the environment, as the applications read them), closed together when the command is done.
 */
export class OpenApplications {
  readonly #opened: Application[] = [];

  /** An instance of the application `name` recording in `pipelineId`. */
  open(system: System, name: string, pipelineId: number): Application {
    const application = new (system.classOf(name))({ pipelineId });
    this.#opened.push(application);
    return application;
  }

  /**
   * One pipeline's applications `names` (every application of the system by default), each
   * follower among them following its upstreams, which are opened too; by name.
   */
  pipeline(system: System, pipelineId: number, names: readonly string[] = system.applicationNames): Map<string, Application> {
    const applications = new Map<string, Application>();
    const opened = (name: string): Application => {
      let application = applications.get(name);
      if (application === undefined) {
        application = this.open(system, name, pipelineId);
        applications.set(name, application);
      }
      return application;
    };
    for (const name of names) opened(name);
    for (const name of names) {
      for (const upstreamName of system.followsOf(name)) {
        const upstream = opened(upstreamName);
        (applications.get(name) as Follower).follow(upstreamName, upstream.recorder, upstream.mapper);
      }
    }
    return applications;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#opened.splice(0).map((application) => application.close()));
  }
}

/** Fails the command with its usage when `name` is not an application of the system (naming those it has). */
export function requireApplication(command: Command, system: System, name: string): void {
  if (!system.applicationNames.includes(name)) {
    command.error(`error: ${name} is not an application of this system (it has: ${system.applicationNames.join(', ')})`);
  }
}

/** An option's value as an integer >= `min` (for commander's argParser: a bad value is a usage error naming the option). */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}.`);
    }
    return number;
  };
}

/** An option's value that names pipelines (`0-7`, `0,2,5` or `3`): checked here, so a bad one is a usage error; parsed by parsePipelines. */
export function pipelineList(value: string): string {
  try {
    parsePipelines(value);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}.`);
  }
  return value;
}

/** An option's value as text that is not blank. */
export function nonBlank(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected some text.');
  return value;
}
