import { DataError } from '../domain';
import type { ViewDialect } from '../persistence';

/**
 * The steps of a view's transaction, written once for every store: a generator that yields what
 * each statement it needs the result of gave (rows, or a promise of rows) and gets the result back.
 * SQLite and memory run a transaction synchronously, so `drive` feeds it at once (a promise there is
 * a mistake: SQLite's connection is shared and cannot be held across turns of the event loop);
 * PostgreSQL's statements are round trips, so it awaits each.
 */
export type Steps<T> = Generator<unknown, T, unknown>;

export function drive<T>(dialect: ViewDialect, steps: Steps<T>): T | Promise<T> {
  if (dialect === 'postgres') return driveAsync(steps);
  let next = steps.next();
  while (!next.done) {
    if (next.value instanceof Promise) {
      next.value.catch(() => undefined);
      throw (
        new DataError(
          `a view's update on ${dialect === 'sqlite' ? 'SQLite' : 'memory'} runs inside a synchronous transaction ` +
            `(SQLite's connection is shared by every recorder of the thread): it returned a promise; make it synchronous`,
        )
      );
    }
    next = steps.next(next.value);
  }
  return next.value;
}

async function driveAsync<T>(steps: Steps<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = await next.value;
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(value);
  }
  return next.value;
}
