import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { restartAction, skipAction } from './actions';
import { checkToken } from './auth';
import { StatusStreams } from './events';
import { HttpError, readJsonObject, sendJson } from './http';
import { resolveConsoleOptions, type ConsoleOptions, type ResolvedConsoleOptions } from './options';
import { consolePage } from './page';
import { statusSnapshot } from './snapshot';
import type { ConsoleTarget } from './target';
import { topology, type Topology } from './topology';

/** A console listening: where, and how to stop it. */
export interface ConsoleServer {
  /** The page's address, e.g. http://127.0.0.1:43121/ (add ?token=... for its actions). */
  readonly url: string;
  readonly port: number;
  /** Resolves once it has closed. */
  readonly closed: Promise<void>;
  /** Ends the event streams and stops listening. */
  close(): Promise<void>;
}

/**
 * Serves a live console of `target` over HTTP (node:http): the page at `/`, `/topology`, `/status`
 * and `/events` (Server-Sent Events) to read, POST `/api/restart` and `/api/skip` to act (with the
 * token). Resolves once it listens; rejects with why it could not (a bad option, a port in use).
 */
export async function startConsole(target: ConsoleTarget, options: ConsoleOptions): Promise<ConsoleServer> {
  const settings = resolveConsoleOptions(options);
  const shape = topology(target.system);
  const streams = new StatusStreams(target, settings.intervalMs);
  const server = createServer((request, response) => {
    route(request, response, { target, settings, shape, streams }).catch((error: unknown) => answerError(response, error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return listening(server, streams);
}

interface Context {
  readonly target: ConsoleTarget;
  readonly settings: ResolvedConsoleOptions;
  readonly shape: Topology;
  readonly streams: StatusStreams;
}

async function route(request: IncomingMessage, response: ServerResponse, context: Context): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://console').pathname;
  const method = request.method ?? 'GET';
  const reading = method === 'GET' || method === 'HEAD';
  switch (path) {
    case '/':
      if (!reading) throw notAllowed('GET');
      return sendPage(response, context);
    case '/topology':
      if (!reading) throw notAllowed('GET');
      return sendJson(response, 200, context.shape);
    case '/status':
      if (!reading) throw notAllowed('GET');
      return sendJson(response, 200, statusSnapshot(await context.target.status(), Date.now()));
    case '/events':
      if (!reading) throw notAllowed('GET');
      return context.streams.add(response);
    case '/api/restart':
    case '/api/skip': {
      if (method !== 'POST') throw notAllowed('POST');
      checkToken(request, context.settings.token);
      const body = await readJsonObject(request);
      const answer = path === '/api/restart' ? await restartAction(context.target, body) : await skipAction(context.target, body);
      return sendJson(response, 200, answer);
    }
    default:
      throw new HttpError(404, `nothing at ${path}`);
  }
}

function sendPage(response: ServerResponse, context: Context): void {
  const nonce = randomBytes(16).toString('base64');
  const html = consolePage({ nonce, topology: context.shape, readOnly: context.settings.token === false });
  response.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  });
  response.end(html);
}

function notAllowed(allowed: string): HttpError {
  return new HttpError(405, `use ${allowed} here`, { allow: allowed });
}

function answerError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof HttpError) sendJson(response, error.status, { error: error.message }, error.headers);
  else sendJson(response, 500, { error: (error as Error)?.message ?? String(error) });
}

function listening(server: Server, streams: StatusStreams): ConsoleServer {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  let closedResolve!: () => void;
  const closed = new Promise<void>((resolve) => (closedResolve = resolve));
  return {
    url: `http://${host}:${address.port}/`,
    port: address.port,
    closed,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        streams.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(closedResolve);
      return closing;
    },
  };
}
