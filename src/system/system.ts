import { Application, ApplicationOptions, applicationNameOf } from '../application';
import { SystemDefinitionError } from './errors';
import { Follower } from './follower/follower';

export type ApplicationClass<A extends Application = Application> = (new (options?: ApplicationOptions) => A) & {
  applicationName?: string;
  readonly name: string;
};

export interface SystemDefinition {
  /** Pipelines of application classes: in `[A, B, C]`, B follows A and C follows B. */
  pipes: ReadonlyArray<ReadonlyArray<ApplicationClass<any>>>;
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `class ${value.name || '(anonymous)'}`;
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/**
 * A system of applications wired into pipelines. `[[A, B, C]]` means B follows A and C follows B;
 * `[[A, A]]` is an application following itself; `[[A, B, A]]` is a cycle; pipes may share
 * applications, and an application may follow several others.
 */
export class System {
  readonly pipes: ReadonlyArray<ReadonlyArray<ApplicationClass<any>>>;
  readonly #classes = new Map<string, ApplicationClass<any>>();
  readonly #follows = new Map<string, string[]>();
  readonly #leads = new Map<string, string[]>();

  constructor(definition: SystemDefinition) {
    const pipes = definition?.pipes;
    if (!Array.isArray(pipes) || pipes.length === 0) {
      throw new SystemDefinitionError('a system needs pipes: a non-empty array of arrays of application classes');
    }
    pipes.forEach((pipe, pipeIndex) => {
      if (!Array.isArray(pipe) || pipe.length === 0) {
        throw new SystemDefinitionError(`pipe ${pipeIndex} must be a non-empty array of application classes`);
      }
      pipe.forEach((cls, position) => {
        if (typeof cls !== 'function' || !(cls.prototype instanceof Application)) {
          throw new SystemDefinitionError(
            `pipe ${pipeIndex}, position ${position}: ${describe(cls)} is not an Application class`,
          );
        }
        const name = applicationNameOf(cls);
        const known = this.#classes.get(name);
        if (known !== undefined && known !== cls) {
          throw new SystemDefinitionError(`two different application classes are named ${name}: give one a static applicationName`);
        }
        this.#classes.set(name, cls);
        if (position < pipe.length - 1 && (cls as unknown as typeof Follower).kind === 'projection') {
          throw new SystemDefinitionError(
            `${applicationNameOf(pipe[position + 1])} follows ${name} in pipe ${pipeIndex}, but ${name} is a projection: it writes a view, not events to follow`,
          );
        }
        if (position === 0) return;
        const leader = applicationNameOf(pipe[position - 1]);
        if (!(cls.prototype instanceof Follower)) {
          throw new SystemDefinitionError(
            `${name} follows ${leader} in pipe ${pipeIndex}, but it is a plain Application: make it a ProcessApplication`,
          );
        }
        addEdge(this.#follows, name, leader);
        addEdge(this.#leads, leader, name);
      });
    });
    this.pipes = pipes.map((pipe) => [...pipe]);
    // Table names are lower-cased: two names that differ only by case would share tables.
    const byTables = new Map<string, string>();
    for (const name of this.#classes.keys()) {
      const other = byTables.get(name.toLowerCase());
      if (other !== undefined) {
        throw new SystemDefinitionError(
          `applications ${other} and ${name} would share tables (${name.toLowerCase()}_events, ...): ` +
            `their names differ only by case; give one of them another name`,
        );
      }
      byTables.set(name.toLowerCase(), name);
    }
  }

  /** Every application's name, in the order they first appear. */
  get applicationNames(): string[] {
    return [...this.#classes.keys()];
  }

  /** Applications that others follow. */
  get leaders(): string[] {
    return [...this.#leads.keys()];
  }

  /** Applications that follow others. */
  get followers(): string[] {
    return [...this.#follows.keys()];
  }

  /** The applications `name` follows. */
  followsOf(name: string): string[] {
    return [...(this.#follows.get(name) ?? [])];
  }

  /** The applications that follow `name`. */
  leadsOf(name: string): string[] {
    return [...(this.#leads.get(name) ?? [])];
  }

  classOf(name: string): ApplicationClass<any> {
    const cls = this.#classes.get(name);
    if (cls === undefined) {
      throw new SystemDefinitionError(`${name} is not in this system (it has: ${this.applicationNames.join(', ')})`);
    }
    return cls;
  }

  has(cls: ApplicationClass<any>): boolean {
    return this.#classes.get(applicationNameOf(cls)) === cls;
  }
}

function addEdge(edges: Map<string, string[]>, from: string, to: string): void {
  const list = edges.get(from);
  if (list === undefined) edges.set(from, [to]);
  else if (!list.includes(to)) list.push(to);
}
