// What the example's API says in JSON besides its routes: the errors that become 4xx/5xx answers,
// how a JSON body is decoded, and how a runner's status (which holds Errors) is written.

/** An error that is answered with `status` and `{ error: message }` (plus `headers`). */
export class HttpError extends Error {
  override name = 'HttpError';

  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/**
 * JSON.stringify replacer: an Error becomes its message (a runner's status holds Errors). It looks
 * at the value before its toJSON (errors of the library have one), which is `this[key]`.
 */
export function errorsAsMessages(this: unknown, key: string, value: unknown): unknown {
  const raw = this !== null && typeof this === 'object' ? (this as Record<string, unknown>)[key] : value;
  return raw instanceof Error ? raw.message : value;
}

/** Whether a Content-Type names JSON (`application/json`, or a `+json` type). */
export function isJsonType(contentType: string): boolean {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(mediaType);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A request body as JSON: `undefined` when there is none (or only white space); 400 when it is not
 * UTF-8 or not JSON. (Fastify's own JSON parser refuses an empty body and reports other errors in
 * its own words: the API keeps its answers.)
 */
export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new HttpError(400, 'the request body is not valid UTF-8');
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `the request body is not valid JSON: ${(error as Error).message}`);
  }
}
