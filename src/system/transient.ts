import { OperationalError } from '../persistence';
import { PolicyError } from './errors';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Whether a failure is the database's (unreachable, a connection cut), not the data's or the code's,
 * so that the same work may succeed when tried again: an OperationalError, also when a policy met it.
 */
export function isTransient(error: unknown): boolean {
  return error instanceof OperationalError || (error instanceof PolicyError && error.cause instanceof OperationalError);
}

/** Tries `work` again after transient failures: this many times, the delay doubling from 5 ms to at most 500 ms. */
export const TRANSIENT_RETRIES = 8;

export async function retryTransient<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || attempt >= TRANSIENT_RETRIES) throw error;
      await sleep(Math.min(5 * 2 ** attempt, 500));
    }
  }
}
