// Reading JSON requests and writing JSON responses with Node's `http` module, and the errors that
// become 4xx/5xx answers.
import type { IncomingMessage, ServerResponse } from 'node:http';

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

/** What a handler answers with. */
export interface JsonReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * JSON.stringify replacer: an Error becomes its message (a runner's status holds Errors). It looks
 * at the value before its toJSON (errors of the library have one), which is `this[key]`.
 */
export function errorsAsMessages(this: unknown, key: string, value: unknown): unknown {
  const raw = this !== null && typeof this === 'object' ? (this as Record<string, unknown>)[key] : value;
  return raw instanceof Error ? raw.message : value;
}

/**
 * Writes `body` as JSON. Never throws: a response that is already under way (or whose connection
 * is gone) cannot be answered again, so it is cut off instead.
 */
export function sendJson(res: ServerResponse, reply: JsonReply): void {
  if (res.headersSent || res.writableEnded || res.destroyed) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const text = JSON.stringify(reply.body, errorsAsMessages);
  res.writeHead(reply.status, {
    ...reply.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/**
 * Reads a request's body, refusing more than `limitBytes` (413): at once when Content-Length says
 * so, else as soon as the bytes received pass the limit. The rest of a refused body is read and
 * discarded, so that the client gets to read the answer, and the connection is closed after it.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new HttpError(413, `the request body is larger than the limit of ${limitBytes} bytes`, { connection: 'close' });
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) {
        cleanUp();
        chunks.length = 0;
        req.resume(); // discard the rest
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanUp();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      cleanUp();
      reject(new HttpError(400, `the request body could not be read: ${error.message}`, { connection: 'close' }));
    };
    const onClose = () => {
      if (!req.complete) onError(new Error('the client went away'));
    };
    const cleanUp = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Whether a Content-Type names JSON (`application/json`, or a `+json` type). */
function isJsonType(contentType: string): boolean {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(mediaType);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a request's body as JSON: `undefined` when there is none. A Content-Type other than JSON is
 * refused (415), as are bodies that are not UTF-8 or not JSON (400) or too large (413).
 */
export async function readJson(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const contentType = req.headers['content-type'];
  if (contentType !== undefined && !isJsonType(contentType)) {
    req.resume();
    throw new HttpError(415, `the request body must be JSON (Content-Type: application/json), got Content-Type: ${contentType}`);
  }
  const bytes = await readBody(req, limitBytes);
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
