import { Environment, type EnvType } from '../../application';
import { RunnerError } from '../errors';
import type { System } from '../system';
import type { PlanSettings } from './plan';

/** How a runner takes part in a cluster (the runners over one PostgreSQL database and schema). */
export interface ClusterOptions {
  /** The cluster's database (default: the unprefixed POSTGRES_URL of the runner's environment). */
  url?: string;
  /** The cluster's schema (default: the unprefixed POSTGRES_SCHEMA, else public). */
  schema?: string;
  /** This member's id, unique among the live members (default: host, pid and a random part). */
  memberId?: string;
  /** How often the member beats its heartbeat and looks at the slots (default 1000 ms). */
  heartbeatIntervalMs?: number;
  /**
   * A heartbeat that takes longer than this means the session is lost: processing stops at once
   * (default 3000 ms). The server ends a session silent for this plus two intervals.
   */
  heartbeatTimeoutMs?: number;
  /** A slot is kept at least this long before it moves to another live member (default 10,000 ms). */
  minHoldMs?: number;
  /** A slot nobody has taken for this long is adopted by any member (default 3000 ms). */
  adoptAfterMs?: number;
  /** Prompt other members with NOTIFY after recording (default true); polling is the fallback. */
  notify?: boolean;
}

export interface ResolvedClusterOptions extends PlanSettings {
  readonly url: string | undefined;
  readonly schema: string;
  readonly memberId: string | undefined;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly notify: boolean;
}

/** Checks a runner's cluster options against its system's stores (each application must be on PostgreSQL). */
export function resolveClusterOptions(system: System, env: EnvType | undefined, options: ClusterOptions | true, who: string): ResolvedClusterOptions {
  const given: ClusterOptions = options === true ? {} : options;
  if (given === null || typeof given !== 'object') throw new RunnerError(`cluster must be an object of settings (or true), got ${String(options)}`);
  const values = { ...process.env, ...env };
  for (const name of system.applicationNames) {
    const persistence = new Environment(name, values).get('PERSISTENCE') ?? 'memory';
    if (persistence !== 'postgres') {
      throw new RunnerError(
        `${who} can be a member of a cluster only over PostgreSQL, which coordinates the members: ${name} would use PERSISTENCE=${persistence}`,
      );
    }
  }
  const number = (key: keyof ClusterOptions, fallback: number, min = 1) => {
    const value = given[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw new RunnerError(`cluster.${key} must be a number >= ${min}, got ${String(given[key])}`);
    return value;
  };
  const heartbeatIntervalMs = number('heartbeatIntervalMs', 1000);
  const heartbeatTimeoutMs = number('heartbeatTimeoutMs', 3000);
  if (heartbeatTimeoutMs <= heartbeatIntervalMs) {
    throw new RunnerError(`cluster.heartbeatTimeoutMs (${heartbeatTimeoutMs}) must be more than cluster.heartbeatIntervalMs (${heartbeatIntervalMs})`);
  }
  const schema = (given.schema ?? values.POSTGRES_SCHEMA ?? 'public').trim().toLowerCase();
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new RunnerError(`cluster.schema must be a plain PostgreSQL identifier, got '${schema}'`);
  return {
    url: given.url ?? values.POSTGRES_URL,
    schema,
    memberId: given.memberId,
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    minHoldMs: number('minHoldMs', 10_000, 0),
    adoptAfterMs: number('adoptAfterMs', 3000, 0),
    notify: given.notify ?? true,
  };
}
