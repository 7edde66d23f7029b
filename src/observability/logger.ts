import { ConfigurationError } from '../domain';

/**
 * One level of a logger, in pino's shape: `log(fields, message)` or `log(message)`. pino, bunyan
 * and `console` all fit.
 */
export type LogFn = (fields?: object | string, message?: string) => void;

/**
 * Where the runtime says what happens to it (the `logger` option of every runner and of
 * Application). Every record has a message and fields (`application`, `pipelineId`, `upstream`,
 * `notificationId`, `attempt`, `delayMs`, ...); an error is in `err`, as pino's and bunyan's
 * serializers expect.
 */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}

export type LogLevel = keyof Logger;

function writeToStderr(kind: string, fields: object | string | undefined, message: string | undefined): void {
  const text = typeof fields === 'string' ? fields : message ?? JSON.stringify(fields ?? {});
  process.stderr.write(`eventsourcing ${kind}: ${text}\n`);
}

const quiet: LogFn = () => undefined;

/**
 * The default logger: warnings and errors go to stderr, one line each (`eventsourcing warning:
 * ...`, `eventsourcing error: ...`), info and debug are quiet.
 */
export const stderrLogger: Logger = Object.freeze({
  error: (fields?: object | string, message?: string) => writeToStderr('error', fields, message),
  warn: (fields?: object | string, message?: string) => writeToStderr('warning', fields, message),
  info: quiet,
  debug: quiet,
});

/** `logger` (default: stderrLogger), checked to have the four levels. */
export function checkLogger(logger: unknown, who: string): Logger {
  if (logger === undefined) return stderrLogger;
  const missing = (['error', 'warn', 'info', 'debug'] as const).filter(
    (level) => typeof (logger as Record<string, unknown> | null | undefined)?.[level] !== 'function',
  );
  if (missing.length > 0) throw new ConfigurationError(`${who}: the logger must have the methods error, warn, info and debug (it lacks ${missing.join(', ')})`);
  return logger as Logger;
}

/** At most one record per key in this window; the ones in between are counted in the next. */
export const RATE_LIMIT_MS = 5000;

/**
 * Logs at most one record per key (a process) every few seconds, however often it repeats; the
 * ones held back go to `debug`, and the next one that is let through says how many there were.
 */
export class RateLimitedLog {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly logger: Logger) {}

  /** `plural` names what repeats, for the count: ['failure', 'failures']. */
  log(level: 'warn' | 'error', key: string, fields: Record<string, unknown>, message: string, plural: readonly [string, string], now = Date.now()): void {
    const last = this.#last.get(key);
    if (last !== undefined && now - last.at < RATE_LIMIT_MS) {
      last.suppressed += 1;
      this.logger.debug(fields, message);
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    const since = suppressed > 0 ? ` (and ${suppressed} more ${plural[suppressed === 1 ? 0 : 1]} since the last warning)` : '';
    this.logger[level](suppressed > 0 ? { ...fields, suppressed } : fields, `${message}${since}`);
    this.#last.set(key, { at: now, suppressed: 0 });
  }
}
