// An HTTP service that embeds the ActorRunner over the World → Counters system, on fastify (its
// routes and JSON schemas are in routes.ts). Run it with `npx tsx examples/http/server.ts`:
//
//   PORT         port to listen on (default 3000; 0 for any free port)
//   HOST         address to listen on (default 127.0.0.1)
//   PERSISTENCE  sqlite (default), memory or postgres (POSTGRES_URL, ...; see the README)
//   SQLITE_DBNAME  with sqlite: the file (default .data/http.sqlite)
//
// It prints `listening on http://HOST:PORT` when ready. SIGTERM or SIGINT drains it (no new
// connections, requests in flight are answered, the runner stops) and it exits with 0.
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import { validate as isUuid } from 'uuid';
import { ActorRunner, AskTimeoutError, type ActorRunnerOptions, type EnvType } from '../../src';
import { system } from '../worlds/counters';
import { errorsAsMessages, HttpError, parseJsonBody } from './http-io';
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
  /** The fastify instance that serves the routes. */
  readonly app: FastifyInstance;
  /** Its Node server. */
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
/** Node's own limits for a server, which fastify would otherwise change (it has no request timeout and a 72 s keep-alive). */
const NODE_SERVER_LIMITS = { requestTimeout: 300_000, keepAliveTimeout: 5_000, connectionTimeout: 0 };
/** Room for any path parameter a request line can carry (fastify answers 404 for one longer than 100 characters by default). */
const MAX_PARAM_LENGTH = 16 * 1024;

export const consoleLogger: Logger = {
  info: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
};

export function createServer(options: ServerOptions = {}): HttpService {
  return new WorldsHttpService(options);
}

class WorldsHttpService implements HttpService {
  readonly runner: ActorRunner;
  readonly app: FastifyInstance;
  readonly #options: ServerOptions;
  readonly #log: Logger;
  readonly #bodyLimit: number;
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
    const bodyLimit = (this.#bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES);
    const app = fastify({
      ...NODE_SERVER_LIMITS,
      bodyLimit,
      routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
      exposeHeadRoutes: false, // HEAD is a method like another: 405 where it is not routed
      return503OnClosing: false, // the drain answers 503 itself, in JSON
      forceCloseConnections: false, // the drain closes connections when their answers are out
      ajv: {
        // Values as they come: no coercion, no defaults, nothing removed; a world id is what `uuid` validates.
        customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false },
        plugins: [(ajv) => ajv.addFormat('world-id', { type: 'string', validate: isUuid })],
      },
      clientErrorHandler: answerClientError,
      // Errors before routing (a path that cannot be decoded): no hook runs for them.
      frameworkErrors: (error, request, reply) => {
        this.#answerHeaders(reply);
        const segment = error.code === 'FST_ERR_BAD_URL' ? undecodableSegment(request.url) : undefined;
        const answer = segment === undefined ? this.#errorReply(error, request) : new HttpError(400, `the path segment '${segment}' is not valid percent-encoding`);
        return this.#reply(reply, answer);
      },
      rewriteUrl: (req) => pathOfTarget(req.url ?? '/'),
    });
    this.app = app;
    app.setReplySerializer((payload) => JSON.stringify(payload, errorsAsMessages));
    app.server.on('request', (_req, res: http.ServerResponse) => this.#track(res));
    // Every method Node parses can be routed (fastify knows only the common ones), so that any of them is a 405 where it is not answered.
    for (const method of http.METHODS) if (method !== 'CONNECT' && !app.supportedMethods.includes(method)) app.addHttpMethod(method);
    app.addHook('onRequest', async (request) => {
      if (this.#closing !== undefined) throw new HttpError(503, 'the server is shutting down', { 'retry-after': '1' });
      // A parameter matches one segment that is not empty (`/worlds//history` is no route).
      if (Object.values(request.params as Record<string, string>).includes('')) throw notFound(request);
    });
    app.addHook('onSend', async (_request, reply) => this.#answerHeaders(reply));
    app.setErrorHandler((error, request, reply) => this.#reply(reply, this.#errorReply(error, request)));
    app.setNotFoundHandler((request) => {
      if (!request.url.startsWith('/')) throw new HttpError(400, `the request target is not a path or URL: ${request.url}`);
      throw notFound(request);
    });
    // Outside the routes' scope, bodies are not read: a 404 or 405 answers whatever the body.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const routes = worldsRoutes(this.runner, { askTimeoutMs: options.askTimeoutMs ?? DEFAULT_ASK_TIMEOUT_MS });
    void app.register(async (scope) => {
      // Bodies are JSON; a body without a Content-Type is read as JSON too. Other types are refused by the routes.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
        try {
          done(null, parseJsonBody(body as Buffer));
        } catch (error) {
          done(error as Error, undefined);
        }
      });
      for (const route of routes) scope.route(route);
    });
    for (const [url, allowed] of methodsByPath(routes)) {
      const others = app.supportedMethods.filter((method) => !allowed.includes(method));
      const allow = allowed.join(', ');
      app.route({
        method: others,
        url,
        handler: async (request) => {
          throw new HttpError(405, `${request.method} is not allowed on ${url} (allowed: ${allow})`, { allow });
        },
      });
    }
  }

  get server(): http.Server {
    return this.app.server;
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
      await this.app.listen({ port: this.#options.port ?? DEFAULT_PORT, host: this.#options.host ?? DEFAULT_HOST });
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
    const serverClosed = this.app.close();
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
    const grace = new AbortController();
    await Promise.race([serverClosed, sleep(CONNECTION_GRACE_MS, undefined, { signal: grace.signal }).catch(() => undefined)]);
    grace.abort();
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
      const timer = new AbortController();
      const timedOut = await Promise.race([
        Promise.all(this.#inFlight).then(() => false),
        sleep(left, true, { signal: timer.signal }).catch(() => false),
      ]);
      timer.abort();
      if (timedOut) return false;
    }
    return true;
  }

  #track(res: http.ServerResponse): void {
    const answered = new Promise<void>((resolve) => res.once('close', resolve));
    this.#inFlight.add(answered);
    void answered.then(() => this.#inFlight.delete(answered));
  }

  #errorReply(error: unknown, request?: FastifyRequest): HttpError {
    if (error instanceof HttpError) return error;
    if (error instanceof AskTimeoutError) return new HttpError(503, `${error.message} (it may still complete)`, { 'retry-after': '1' });
    const known = frameworkError(error as FastifyError, this.#bodyLimit);
    if (known !== undefined) return known;
    this.#log.error(`${request?.method} ${request?.url} failed: ${describe(error)}`);
    const message = error instanceof Error ? error.message : String(error);
    return new HttpError(500, `internal server error: ${message}`);
  }

  /** What every answer carries: no caching, and while draining, the end of its connection (so that close() is not held by keep-alive). */
  #answerHeaders(reply: FastifyReply): void {
    void reply.header('cache-control', 'no-store');
    if (this.#closing !== undefined) void reply.header('connection', 'close');
  }

  #reply(reply: FastifyReply, error: HttpError): FastifyReply {
    return reply.code(error.status).headers(error.headers).send({ error: error.message });
  }
}

/** The fastify errors an answer of the API stands for, in its words (undefined for any other error). */
function frameworkError(error: FastifyError, bodyLimit: number): HttpError | undefined {
  switch (error?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, `the request body is larger than the limit of ${bodyLimit} bytes`, { connection: 'close' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'the request body must be JSON (Content-Type: application/json)');
  }
  // Errors of the request's stream (the client went away, a wrong Content-Length) are 4xx of fastify's.
  if (typeof error?.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new HttpError(400, `the request body could not be read: ${error.message}`, { connection: 'close' });
  }
  return undefined;
}
function notFound(request: FastifyRequest): HttpError {
  return new HttpError(404, `no route for ${request.method} ${request.url.split(/[?#]/, 1)[0]}`);
}

/** The first segment of a request's path that is not valid percent-encoding. */
function undecodableSegment(url: string): string | undefined {
  return url
    .split(/[?#]/, 1)[0]
    .split('/')
    .find((segment) => {
      try {
        decodeURIComponent(segment);
        return false;
      } catch {
        return true;
      }
    });
}

/** Each path of `routes` with the methods it answers. */
function methodsByPath(routes: readonly RouteOptions[]): Map<string, string[]> {
  const paths = new Map<string, string[]>();
  for (const { url, method } of routes) paths.set(url, [...(paths.get(url) ?? []), ...[method].flat()]);
  return paths;
}

/** The path of a request target: origin-form (`/a/b?c`) as it is, absolute-form (`http://host/a/b?c`) as its path and query. */
function pathOfTarget(target: string): string {
  if (target.startsWith('/')) return target;
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return target; // the not-found handler answers 400 for it
  }
}

/** Requests Node could not parse: answered in JSON when the socket can still take it. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
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
