import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Work that resolves without a macrotask (in-memory or SQLite writes: better-sqlite3 is
 * synchronous) never lets the event loop turn, so a caller that awaits such commands in a loop
 * would starve timers, I/O and every other task of the process until the loop ends. Commands call
 * turnIfDue: when the event loop has not turned for TURN_INTERVAL_MS, it resolves after a turn.
 * Whether it turned is watched with one setImmediate at a time, so a process whose work waits for
 * real I/O (and so turns anyway) is never made to wait.
 */
export const TURN_INTERVAL_MS = 10;

let lastTurn = performance.now();
let watching = false;

const turned = (): void => {
  watching = false;
  lastTurn = performance.now();
};

/** A turn of the event loop if one is due (undefined when not: the caller need not wait). */
export function turnIfDue(): Promise<void> | undefined {
  const now = performance.now();
  if (now - lastTurn < TURN_INTERVAL_MS) {
    if (!watching) {
      watching = true;
      setImmediate(turned);
    }
    return undefined;
  }
  lastTurn = now;
  return nextTurn();
}
