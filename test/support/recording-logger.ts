import type { Logger, LogLevel } from '../../src';

export interface LogRecord {
  readonly level: LogLevel;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A logger that keeps what it is told, in both of pino's call shapes. */
export class RecordingLogger implements Logger {
  readonly records: LogRecord[] = [];
  readonly error = this.level('error');
  readonly warn = this.level('warn');
  readonly info = this.level('info');
  readonly debug = this.level('debug');

  /** The records at `level` whose message matches `pattern`. */
  find(level: LogLevel, pattern: RegExp): LogRecord[] {
    return this.records.filter((record) => record.level === level && pattern.test(record.message));
  }

  /** Resolves with the records at `level` matching `pattern` once there are `count` of them. */
  async when(level: LogLevel, pattern: RegExp, count = 1, timeoutMs = 10_000): Promise<LogRecord[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.find(level, pattern);
      if (found.length >= count) return found;
      if (Date.now() > deadline) throw new Error(`no ${count} ${level} records matching ${pattern} within ${timeoutMs} ms: ${JSON.stringify(this.records.map((record) => record.message))}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private level(level: LogLevel) {
    return (fields?: object | string, message?: string): void => {
      if (typeof fields === 'string') this.records.push({ level, fields: {}, message: fields });
      else this.records.push({ level, fields: { ...fields }, message: message ?? '' });
    };
  }
}

/** What `body` writes to stderr (and lets through). */
export async function capturingStderr<T>(body: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: any[]) => {
    lines.push(...String(chunk).split('\n').filter((line) => line !== ''));
    return write(chunk, ...rest);
  });
  try {
    return { result: await body(), lines };
  } finally {
    spy.mockRestore();
  }
}
