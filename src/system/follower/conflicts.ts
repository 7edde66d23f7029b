import { setTimeout as delay } from 'node:timers/promises';
import { StaleAggregateError } from '../../application';
import { RecordConflictError, TrackingConflictError } from '../../persistence';
import type { FollowerObserver } from './observer';
import type { UpstreamReader } from './upstream-reader';

/** How many times work is done again when its write loses a race with another writer. */
export const MAX_CONFLICT_RETRIES = 10;

/**
 * Whether another writer got there first: another run recorded these notifications
 * (TrackingConflictError), or an aggregate they changed (RecordConflictError), or one they read
 * from the cache changed (StaleAggregateError). Nothing of the write was kept.
 */
export function isConflict(error: unknown): boolean {
  return error instanceof TrackingConflictError || error instanceof RecordConflictError || error instanceof StaleAggregateError;
}

/**
 * The one conflict policy of every entry point of a follower: on a conflict, the reader forgets its
 * position (the cache forgot the aggregates already), and `attempt` runs again from the position as
 * recorded (`retry` counts the conflicts so far), up to MAX_CONFLICT_RETRIES times in a row; any
 * other error, or one conflict too many, is thrown. Each retry is told to `observer` (it logs it).
 */
export async function retryingConflicts<T>(
  reader: UpstreamReader,
  attempt: (retry: number) => Promise<T>,
  observer?: Pick<FollowerObserver, 'conflicted'>,
): Promise<T> {
  for (let conflicts = 0; ; ) {
    try {
      return await attempt(conflicts);
    } catch (error) {
      if (!isConflict(error)) throw error;
      reader.forget();
      if (++conflicts > MAX_CONFLICT_RETRIES) throw error;
      // Two processes that keep writing the same aggregates would keep colliding in step: after the
      // first retry, wait a random while that grows with each conflict, so one of them goes first.
      const delayMs = conflicts > 1 ? Math.round(Math.random() * Math.min(2 ** conflicts, 100)) : 0;
      observer?.conflicted(reader, error, conflicts, delayMs);
      if (delayMs > 0) await delay(delayMs);
    }
  }
}
