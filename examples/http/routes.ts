// The HTTP API over the World → Counters system: every command goes to the ActorRunner as a
// message (runner.ask), and `GET /status` shows the runner's status.
import type { IncomingMessage } from 'node:http';
import { validate as isUuid } from 'uuid';
import { ActorRunner, AggregateNotFound, RecordConflictError } from '../../src';
import { Counters } from '../worlds/counters';
import { WorldsApplication } from '../worlds/domain';
import { HttpError, readJson, type JsonReply } from './http-io';

/** What a handler is given: the request, the path's parameters (decoded) and its JSON body. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  /** Reads the body as JSON (undefined when there is none); see readJson for the 4xx answers. */
  readonly body: () => Promise<unknown>;
}

export type Handler = (context: RouteContext) => Promise<JsonReply>;

/** A path such as `/worlds/:id/history`, with a handler per method. */
export interface Route {
  readonly path: string;
  readonly methods: Readonly<Record<string, Handler>>;
}

/**
 * Finds the route for a request: 404 when no path matches, 405 (with Allow) when the path matches
 * but not the method, 400 when the path cannot be decoded.
 */
export class Router {
  readonly #routes: ReadonlyArray<{ readonly segments: readonly string[]; readonly route: Route }>;

  constructor(
    routes: readonly Route[],
    readonly bodyLimitBytes: number,
  ) {
    this.#routes = routes.map((route) => ({ segments: route.path.split('/').slice(1), route }));
  }

  async handle(req: IncomingMessage): Promise<JsonReply> {
    const method = req.method ?? 'GET';
    const pathname = pathOf(req.url ?? '/');
    const segments = pathname.split('/').slice(1);
    for (const { segments: pattern, route } of this.#routes) {
      const params = matchPath(pattern, segments);
      if (params === undefined) continue;
      const handler = Object.prototype.hasOwnProperty.call(route.methods, method) ? route.methods[method] : undefined;
      if (handler === undefined) {
        const allowed = Object.keys(route.methods).join(', ');
        throw new HttpError(405, `${method} is not allowed on ${route.path} (allowed: ${allowed})`, { allow: allowed });
      }
      return handler({ req, params, body: () => readJson(req, this.bodyLimitBytes) });
    }
    throw new HttpError(404, `no route for ${method} ${pathname}`);
  }
}

/** The path of a request target: origin-form (`/a/b?c`), or absolute-form (`http://host/a/b`). */
function pathOf(target: string): string {
  if (target.startsWith('/')) return target.split(/[?#]/, 1)[0];
  try {
    return new URL(target).pathname;
  } catch {
    throw new HttpError(400, `the request target is not a path or URL: ${target}`);
  }
}

/** The decoded parameters when `segments` match `pattern` (`:name` matches one non-empty segment). */
function matchPath(pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) {
      if (segments[i] === '') return undefined;
      try {
        params[pattern[i].slice(1)] = decodeURIComponent(segments[i]);
      } catch {
        throw new HttpError(400, `the path segment '${segments[i]}' is not valid percent-encoding`);
      }
    } else if (pattern[i] !== segments[i]) {
      return undefined;
    }
  }
  return params;
}

export interface ApiOptions {
  /** The largest request body accepted (413 beyond). */
  readonly bodyLimitBytes: number;
  /** How long a command may take to be answered (503 beyond; it may still complete). */
  readonly askTimeoutMs: number;
}

/** The routes of the example, over a running ActorRunner of the worlds system. */
export function worldsRoutes(runner: ActorRunner, options: ApiOptions): Router {
  const ask = { timeoutMs: options.askTimeoutMs };
  return new Router(
    [
      {
        path: '/worlds',
        methods: {
          POST: async ({ body }) => {
            await body(); // none is needed; one that is sent must still be JSON and not too large
            const id = await runner.ask(WorldsApplication, 'createWorld', [], ask);
            return { status: 201, body: { id }, headers: { location: `/worlds/${id}` } };
          },
        },
      },
      {
        path: '/worlds/:id/things',
        methods: {
          POST: async ({ params, body }) => {
            const id = worldId(params.id);
            const what = thingOf(await body());
            await ifWorldExists(id, () => runner.ask(WorldsApplication, 'makeItSo', [id, what], ask));
            // Accepted: the world has recorded it; Counters counts it soon after (see GET /counts).
            return { status: 202, body: { id, what } };
          },
        },
      },
      {
        path: '/worlds/:id/history',
        methods: {
          GET: async ({ params }) => {
            const id = worldId(params.id);
            const history = await ifWorldExists(id, () => runner.ask(WorldsApplication, 'getWorldHistory', [id], ask));
            return { status: 200, body: { id, history } };
          },
        },
      },
      {
        path: '/counts/:what',
        methods: {
          GET: async ({ params }) => {
            const what = params.what;
            if (what.trim() === '') throw new HttpError(400, "'what' must not be blank");
            const count = await runner.ask(Counters, 'getCount', [what], ask);
            return { status: 200, body: { what, count } };
          },
        },
      },
      {
        path: '/status',
        methods: {
          GET: async () => ({ status: 200, body: await runner.status() }),
        },
      },
    ],
    options.bodyLimitBytes,
  );
}

/** A world's id from the path: a UUID (400 otherwise), in the lower case that ids are made in. */
function worldId(raw: string): string {
  if (!isUuid(raw)) throw new HttpError(400, `'${raw}' is not a world id (a UUID)`);
  return raw.toLowerCase();
}

/**
 * Runs a command on world `id`, answering 404 when there is no such world, and 409 when another
 * writer (another process over the same store) recorded a change to it first.
 */
async function ifWorldExists<T>(id: string, command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error) {
    if (error instanceof AggregateNotFound) throw new HttpError(404, `there is no world ${id}`);
    if (error instanceof RecordConflictError) throw new HttpError(409, `world ${id} was changed by another writer at the same time: try again`);
    throw error;
  }
}

/** The `what` of `{ "what": "dinosaurs" }`: a string that is not blank (400 otherwise). */
function thingOf(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'the request body must be a JSON object such as { "what": "dinosaurs" }');
  }
  const { what } = body as { what?: unknown };
  if (what === undefined || what === null) throw new HttpError(400, "'what' is required, as in { \"what\": \"dinosaurs\" }");
  if (typeof what !== 'string') throw new HttpError(400, `'what' must be a string, got ${Array.isArray(what) ? 'an array' : typeof what}`);
  if (what.trim() === '') throw new HttpError(400, "'what' must not be blank");
  return what;
}
