import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http';

/** Refuses an action without the console's token: 403 on a read-only console, 401 without the right token. */
export function checkToken(request: IncomingMessage, token: string | false): void {
  if (token === false) throw new HttpError(403, 'this console is read-only: it was started with token: false');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (match === null || !sameSecret(match[1], token)) {
    throw new HttpError(401, 'this action needs the console\'s token: Authorization: Bearer <token>', { 'www-authenticate': 'Bearer' });
  }
}

/** Compares in constant time (hashes first, so lengths do not show either). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
