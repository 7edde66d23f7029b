// An HTTP service that embeds the ActorRunner over the World → Counters system, with Node's own
// `http` module. Run it with `npx tsx examples/http/server.ts`:
//
//   PORT         port to listen on (default 3000; 0 for any free port)
//   HOST         address to listen on (default 127.0.0.1)
//   PERSISTENCE  sqlite (default), memory or postgres (POSTGRES_URL, ...; see the README)
//   SQLITE_DBNAME  with sqlite: the file (default .data/http.sqlite)
//
// It prints `listening on http://HOST:PORT` when ready. SIGTERM or SIGINT drains it (no new
// connections, requests in flight are answered, the runner stops) and it exits with 0.
import { mkdirSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { ActorRunner, AskTimeoutError, type ActorRunnerOptions, type EnvType } from '../../src';
import { system } from '../worlds/counters';
import { HttpError, sendJson, type JsonReply } from './http-io';
import { worldsRoutes } from './routes';

export interface Logger {
  info(line: string): void;
  error(line: string): void;
}

export interface ServerOptions {
  /** Settings for the applications (persistence, ...), overlaid on the process environment. */
  env?: EnvType;
  /** Port to listen on (default 3000; 0 for any free port). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Options of the ActorRunner besides env (pipelineIds, pollIntervalMs, supervision, ...). */
  runner?: Omit<ActorRunnerOptions, 'env'>;
  /** The largest request body accepted, in bytes (default 64 KiB; 413 beyond). */
  bodyLimitBytes?: number;
  /** How long a command may take to be answered (default 10 s; 503 beyond). */
  askTimeoutMs?: number;
  /** How long close() waits for requests in flight before cutting them off (default 10 s). */
  drainTimeoutMs?: number;
  /** Where errors of the server itself go (default: stdout and stderr). */
  log?: Logger;
}

export interface ListeningAddress {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, to send requests to. */
  readonly url: string;
}

export interface HttpService {
  readonly runner: ActorRunner;
  readonly server: http.Server;
  /** Starts the runner, then listens; resolves with the address bound. */
  listen(): Promise<ListeningAddress>;
  /**
   * Drains: stops accepting connections, answers the requests in flight (new requests on open
   * keep-alive connections get 503), closes the connections, then stops the runner. Calling it again
   * returns the same promise.
   */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
const DEFAULT_ASK_TIMEOUT_MS = 10_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
/** How long close() lets answered keep-alive connections close by themselves before closing them. */
const CONNECTION_GRACE_MS = 1_000;

export const consoleLogger: Logger = {
  info: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
};

export function createServer(options: ServerOptions = {}): HttpService {
  return new WorldsHttpService(options);
}

class WorldsHttpService implements HttpService {
  readonly runner: ActorRunner;
  readonly server: http.Server;
  readonly #options: ServerOptions;
  readonly #log: Logger;
  /** Settles when each request in flight has been answered (or its connection is gone). */
  readonly #inFlight = new Set<Promise<void>>();
  #listening: Promise<ListeningAddress> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ServerOptions) {
    this.#options = options;
    this.#log = options.log ?? consoleLogger;
    const port = options.port ?? DEFAULT_PORT;
    if (!Number.isSafeInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`);
    this.runner = new ActorRunner(system, { ...options.runner, env: options.env });
    const router = worldsRoutes(this.runner, {
      bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
      askTimeoutMs: options.askTimeoutMs ?? DEFAULT_ASK_TIMEOUT_MS,
    });
    this.server = http.createServer((req, res) => {
      this.#track(res);
      this.#respond(req, res, () => router.handle(req)).catch((error: unknown) => {
        this.#log.error(`answering ${req.method} ${req.url} failed: ${describe(error)}`);
        res.destroy();
      });
    });
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      // Requests Node could not parse: answer in JSON when the socket can still take it.
      if (!socket.writable || error.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const [status, message] =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'the request headers are too large']
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'the request took too long to arrive']
            : [400, `the request is not valid HTTP: ${error.message}`];
      const text = JSON.stringify({ error: message });
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    });
  }

  listen(): Promise<ListeningAddress> {
    if (this.#closing !== undefined) return Promise.reject(new Error('this server was closed: make a new one'));
    return (this.#listening ??= this.#listen());
  }

  close(): Promise<void> {
    return (this.#closing ??= this.#drainAndStop());
  }

  async #listen(): Promise<ListeningAddress> {
    await this.runner.start();
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.#options.port ?? DEFAULT_PORT, this.#options.host ?? DEFAULT_HOST, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await this.runner.stop().catch(() => undefined);
      throw error;
    }
    const { address, port } = this.server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    return { host: address, port, url: `http://${host}:${port}` };
  }

  async #drainAndStop(): Promise<void> {
    await this.#listening?.catch(() => undefined); // a listen in progress finishes first
    // No new connections; the idle keep-alive connections are closed now.
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // The requests in flight are answered (with Connection: close, so their connections close after).
    if (!(await this.#drained(this.#options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS))) {
      this.#log.error(`${this.#inFlight.size} request(s) still in flight after the drain timeout: closing their connections`);
      this.server.closeAllConnections();
    }
    let stopError: unknown;
    try {
      await this.runner.stop(); // drains the actors: commands and runs in flight finish
    } catch (error) {
      stopError = error;
    }
    this.server.closeIdleConnections();
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([serverClosed, new Promise<void>((resolve) => (grace = setTimeout(resolve, CONNECTION_GRACE_MS)))]);
    clearTimeout(grace);
    this.server.closeAllConnections();
    await serverClosed;
    if (stopError !== undefined) throw stopError;
  }

  /** Whether every request in flight was answered within `timeoutMs`. */
  async #drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#inFlight.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        Promise.all(this.#inFlight).then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), left))),
      ]);
      clearTimeout(timer);
      if (timedOut) return false;
    }
    return true;
  }

  #track(res: ServerResponse): void {
    const answered = new Promise<void>((resolve) => res.once('close', resolve));
    this.#inFlight.add(answered);
    void answered.then(() => this.#inFlight.delete(answered));
  }

  async #respond(req: IncomingMessage, res: ServerResponse, handle: () => Promise<JsonReply>): Promise<void> {
    let reply: JsonReply;
    try {
      if (this.#closing !== undefined) throw new HttpError(503, 'the server is shutting down', { 'retry-after': '1' });
      reply = await handle();
    } catch (error) {
      reply = this.#errorReply(req, error);
    }
    // While draining, every answer closes its connection, so that close() is not held by keep-alive.
    if (this.#closing !== undefined) reply = { ...reply, headers: { ...reply.headers, connection: 'close' } };
    sendJson(res, reply);
  }

  #errorReply(req: IncomingMessage, error: unknown): JsonReply {
    if (error instanceof HttpError) return { status: error.status, body: { error: error.message }, headers: error.headers };
    if (error instanceof AskTimeoutError) {
      return { status: 503, body: { error: `${error.message} (it may still complete)` }, headers: { 'retry-after': '1' } };
    }
    this.#log.error(`${req.method} ${req.url} failed: ${describe(error)}`);
    const message = error instanceof Error ? error.message : String(error);
    return { status: 500, body: { error: `internal server error: ${message}` } };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** The settings of `main`, from the process environment. */
export function settingsFrom(env: NodeJS.ProcessEnv): { port: number; host: string; env: Record<string, string>; where: string } {
  const portText = env.PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`PORT must be a port number from 0 to 65535, got '${portText}'`);
  const host = env.HOST || DEFAULT_HOST;
  const persistence = env.PERSISTENCE || 'sqlite';
  if (persistence !== 'sqlite') return { port, host, env: { PERSISTENCE: persistence }, where: persistence };
  const dbName = env.SQLITE_DBNAME || '.data/http.sqlite';
  if (dbName === ':memory:') return { port, host, env: { PERSISTENCE: 'sqlite', SQLITE_DBNAME: dbName }, where: 'sqlite (:memory:)' };
  const path = resolve(dbName);
  mkdirSync(dirname(path), { recursive: true });
  return { port, host, env: { PERSISTENCE: 'sqlite', SQLITE_DBNAME: path }, where: `sqlite (${path})` };
}

/**
 * Runs the service until SIGTERM or SIGINT, then drains it and lets the process exit with 0 (1 when
 * stopping failed). A second signal exits at once, with 1.
 */
export async function main(log: Logger = consoleLogger): Promise<void> {
  const settings = settingsFrom(process.env);
  const service = createServer({ env: settings.env, port: settings.port, host: settings.host, log });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.error(`${signal} again: exiting without draining`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: draining`);
    service.close().then(
      () => {
        log.info('stopped');
        exitSoon(0, log);
      },
      (error: unknown) => {
        log.error(`stopping failed: ${describe(error)}`);
        exitSoon(1, log);
      },
    );
  };
  // Before listening: a signal while starting drains once started (close() waits for listen()).
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const { url } = await service.listen();
  if (!stopping) log.info(`listening on ${url} (persistence: ${settings.where})`);
}

/**
 * Sets the exit code and lets the process end by itself (nothing of the server or runner is left
 * holding the event loop); should something else hold it, exits anyway after a moment.
 */
function exitSoon(code: number, log: Logger): void {
  process.exitCode = code;
  setTimeout(() => {
    log.error('something still holds the event loop after stopping: exiting');
    process.exit(code);
  }, 2_000).unref();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    consoleLogger.error(`the server could not start: ${describe(error)}`);
    process.exit(1);
  });
}
