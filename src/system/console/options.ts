import { ConfigurationError } from '../../domain';

export interface ConsoleOptions {
  /** The TCP port to listen on; 0 takes any free port (see ConsoleServer.url). */
  readonly port: number;
  /** The address to bind (default 127.0.0.1, loopback only). */
  readonly host?: string;
  /**
   * The secret that actions (restart, skip) must bear (`Authorization: Bearer <token>`; the page
   * takes it from its URL's `?token=`). `false` serves a read-only console: actions are refused (403).
   */
  readonly token: string | false;
  /** How often each Server-Sent Events stream gets a status snapshot (default 500 ms). */
  readonly intervalMs?: number;
}

export interface ResolvedConsoleOptions {
  readonly port: number;
  readonly host: string;
  readonly token: string | false;
  readonly intervalMs: number;
}

export function resolveConsoleOptions(options: ConsoleOptions | undefined): ResolvedConsoleOptions {
  if (options === null || typeof options !== 'object') throw new ConfigurationError('the console needs options: { port, token }');
  const { port, host = '127.0.0.1', token, intervalMs = 500 } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigurationError(`the console's port must be an integer from 0 to 65535 (0: any free port), got ${String(port)}`);
  }
  if (typeof host !== 'string' || host.trim() === '') throw new ConfigurationError(`the console's host must be an address, got ${String(host)}`);
  if (token !== false && (typeof token !== 'string' || token.trim() === '')) {
    throw new ConfigurationError(
      "the console needs a token, which its actions (restart, skip) must bear: pass token: '<a secret>', or token: false for a read-only console",
    );
  }
  if (!(typeof intervalMs === 'number' && intervalMs >= 10)) {
    throw new ConfigurationError(`the console's intervalMs must be a number >= 10, got ${String(intervalMs)}`);
  }
  return { port, host, token, intervalMs };
}
