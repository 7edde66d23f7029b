// The HTTP API over the World → Counters system, as fastify routes with JSON schemas for their
// parameters and bodies: every command goes to the ActorRunner as a message (runner.ask), and
// `GET /status` shows the runner's status.
import type { FastifyError, FastifyRequest, FastifySchemaValidationError, RouteHandlerMethod, RouteOptions } from 'fastify';
import { ActorRunner, AggregateNotFound, RecordConflictError } from '../../src';
import { Counters } from '../worlds/counters';
import { WorldsApplication } from '../worlds/domain';
import { HttpError, isJsonType } from './http-io';

export interface ApiOptions {
  /** How long a command may take to be answered (503 beyond; it may still complete). */
  readonly askTimeoutMs: number;
}

/** A world's id in the path: a UUID, as the `uuid` package validates it (the format is added in server.ts). */
const worldParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'world-id' } },
} as const;

/** What is not blank: at least one character that is not white space. */
const notBlank = { type: 'string', pattern: '\\S' } as const;

const thingBody = { type: 'object', required: ['what'], properties: { what: notBlank } } as const;

const countParams = { type: 'object', required: ['what'], properties: { what: notBlank } } as const;

/** The routes of the example, over a running ActorRunner of the worlds system (server.ts registers them). */
export function worldsRoutes(runner: ActorRunner, options: ApiOptions): RouteOptions[] {
  const ask = { timeoutMs: options.askTimeoutMs };
  return [
    {
      method: 'POST',
      url: '/worlds',
      onRequest: [jsonOnly], // no body is needed; one that is sent must still be JSON and not too large
      handler: async (_request, reply) => {
        const id = await runner.ask(WorldsApplication, 'createWorld', [], ask);
        void reply.code(201).header('location', `/worlds/${id}`);
        return { id };
      },
    },
    {
      method: 'POST',
      url: '/worlds/:id/things',
      schema: { params: worldParams, body: thingBody },
      onRequest: [paramsFirst, jsonOnly],
      errorHandler: explainInvalid,
      handler: (async (request, reply) => {
        const id = worldIdOf(request);
        const { what } = request.body as { what: string };
        await ifWorldExists(id, () => runner.ask(WorldsApplication, 'makeItSo', [id, what], ask));
        // Accepted: the world has recorded it; Counters counts it soon after (see GET /counts).
        void reply.code(202);
        return { id, what };
      }) satisfies RouteHandlerMethod,
    },
    {
      method: 'GET',
      url: '/worlds/:id/history',
      schema: { params: worldParams },
      errorHandler: explainInvalid,
      handler: async (request) => {
        const id = worldIdOf(request);
        const history = await ifWorldExists(id, () => runner.ask(WorldsApplication, 'getWorldHistory', [id], ask));
        return { id, history };
      },
    },
    {
      method: 'GET',
      url: '/counts/:what',
      schema: { params: countParams },
      errorHandler: explainInvalid,
      handler: async (request) => {
        const { what } = request.params as { what: string };
        const count = await runner.ask(Counters, 'getCount', [what], ask);
        return { what, count };
      },
    },
    {
      method: 'GET',
      url: '/status',
      handler: () => runner.status(),
    },
  ];
}

/** A world's id from the path (checked by its schema), in the lower case that ids are made in. */
function worldIdOf(request: FastifyRequest): string {
  return (request.params as { id: string }).id.toLowerCase();
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

/** 415 for a body declared as something other than JSON, before it is read. */
async function jsonOnly(request: FastifyRequest): Promise<void> {
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && !isJsonType(contentType)) {
    throw new HttpError(415, `the request body must be JSON (Content-Type: application/json), got Content-Type: ${contentType}`);
  }
}

/** Checks the path's parameters against the route's schema before the body is read: a bad id is a 400 about the id. */
async function paramsFirst(request: FastifyRequest): Promise<void> {
  const validate = request.getValidationFunction('params');
  if (validate !== undefined && !validate(request.params)) {
    throw new HttpError(400, describeInvalid('params', validate.errors?.[0], request));
  }
}

/** A route's error handler: what its schemas refused, in the API's words (anything else goes on to the server's). */
function explainInvalid(error: FastifyError, request: FastifyRequest): never {
  if (error.validation === undefined) throw error;
  throw new HttpError(400, describeInvalid(error.validationContext ?? 'request', error.validation[0], request));
}

/** What a schema found wrong in part `part` of a request, as the API has always said it. */
function describeInvalid(part: string, issue: FastifySchemaValidationError | undefined, request: FastifyRequest): string {
  if (issue === undefined) return `the request's ${part} do not match the API`;
  const data = (part === 'params' ? request.params : request.body) as Record<string, unknown> | undefined;
  const field = issue.instancePath.slice(1) || String(issue.params.missingProperty ?? '');
  if (issue.instancePath === '' && issue.keyword === 'type') return 'the request body must be a JSON object such as { "what": "dinosaurs" }';
  const value = data?.[field];
  if (issue.keyword === 'required' || value === null) return `'${field}' is required, as in { "${field}": "dinosaurs" }`;
  switch (issue.keyword) {
    case 'type':
      return `'${field}' must be a string, got ${Array.isArray(value) ? 'an array' : typeof value}`;
    case 'pattern':
      return `'${field}' must not be blank`;
    case 'format':
      return `'${String(value)}' is not a world id (a UUID)`;
    default:
      return `'${field}' ${issue.message ?? 'is not valid'}`;
  }
}
