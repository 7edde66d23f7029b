import { RunnerError } from '../errors';

/**
 * How a supervisor restarts a failing process (the ActorRunner's masters their slaves, the
 * MultiprocessRunner its workers; nact has no backoff or restart limits of its own).
 */
export interface SupervisionOptions {
  /** Delay before the first restart (default 100 ms); doubled at each failure without progress. */
  readonly minBackoffMs: number;
  /** Most the doubling reaches, before jitter (default 10,000 ms, or minBackoffMs if that is more). */
  readonly maxBackoffMs: number;
  /** Jitter: up to this fraction of the delay is added at random (default 0.2), as Akka does. */
  readonly randomFactor: number;
  /** Most restarts within `withinMs` before the process is `failed` (default 10). */
  readonly maxRestarts: number;
  /** The window restarts are counted in (default 60,000 ms). */
  readonly withinMs: number;
}

/**
 * The defaults: a process that fails without progress is restarted after 0.1, 0.2, 0.4, ... up to
 * 10 s (plus jitter), and its eleventh failure, about 50 s after the first, leaves it `failed`. The
 * backoffs of maxRestarts restarts must fit in the window, or the limit could never be reached.
 */
export const DEFAULT_SUPERVISION: SupervisionOptions = Object.freeze({
  minBackoffMs: 100,
  maxBackoffMs: 10_000,
  randomFactor: 0.2,
  maxRestarts: 10,
  withinMs: 60_000,
});

/** The defaults overlaid by `options`, checked. */
export function resolveSupervision(options: Partial<SupervisionOptions> = {}): SupervisionOptions {
  const resolved = { ...DEFAULT_SUPERVISION };
  for (const [key, value] of Object.entries(options) as Array<[keyof SupervisionOptions, unknown]>) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_SUPERVISION)) {
      throw new RunnerError(`supervision has no option ${String(key)} (it has: ${Object.keys(DEFAULT_SUPERVISION).join(', ')})`);
    }
    (resolved as Record<string, unknown>)[key] = value;
  }
  // A minimum above the default maximum, with no maximum given, raises the maximum to it.
  if (options.maxBackoffMs === undefined && resolved.minBackoffMs > resolved.maxBackoffMs) resolved.maxBackoffMs = resolved.minBackoffMs;
  const check = (key: keyof SupervisionOptions, valid: boolean, expected: string) => {
    if (!valid) throw new RunnerError(`supervision.${key} must be ${expected}, got ${String(resolved[key])}`);
  };
  const isNumber = (value: number) => typeof value === 'number' && Number.isFinite(value);
  check('minBackoffMs', isNumber(resolved.minBackoffMs) && resolved.minBackoffMs >= 0, 'a number >= 0');
  check('maxBackoffMs', isNumber(resolved.maxBackoffMs) && resolved.maxBackoffMs >= resolved.minBackoffMs, 'a number >= minBackoffMs');
  check('randomFactor', isNumber(resolved.randomFactor) && resolved.randomFactor >= 0, 'a number >= 0');
  check('maxRestarts', Number.isSafeInteger(resolved.maxRestarts) && resolved.maxRestarts >= 0, 'an integer >= 0');
  check('withinMs', isNumber(resolved.withinMs) && resolved.withinMs > 0, 'a number > 0');
  return Object.freeze(resolved);
}

/**
 * The delay before restart number `attempt` (1, 2, ...) of a run of failures without progress:
 * minBackoffMs × 2^(attempt − 1), at most maxBackoffMs, plus up to randomFactor of that at random.
 */
export function backoffDelay(options: SupervisionOptions, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(options.maxBackoffMs, options.minBackoffMs * 2 ** Math.min(Math.max(attempt - 1, 0), 52));
  return Math.round(exponential * (1 + random() * options.randomFactor));
}

/** Restarts (their times) still inside the window at `now`. */
export function restartsWithin(options: SupervisionOptions, restarts: readonly number[], now: number): number[] {
  return restarts.filter((at) => now - at < options.withinMs);
}
