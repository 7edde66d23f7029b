import { sleep } from './datastore';

/**
 * The horizon of the notification log in 'watermark' ordering: `pg_snapshot_xmin` of the statement's
 * snapshot. Every transaction with a txid below it has ended, so no notification can still appear
 * before a position below it: readers only show rows whose txid is below it. Used as a CTE, so it
 * is evaluated once per statement.
 */
export const HORIZON = 'SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin';

/** What each watermark read reports besides its result: the horizon, and the newest committed txid. */
export interface WatermarkReading {
  /** pg_snapshot_xmin of the statement's snapshot (xid8 as a decimal string). */
  readonly xmin: string;
  /** txid of the newest committed row the read could show, or null when there is none. */
  readonly head: string | null;
  /** Whether the read has all it asked for (a full page), so waiting cannot add anything. */
  readonly complete: boolean;
}

/**
 * Runs a watermark read and, when committed rows were held back by transactions still running
 * (head >= xmin) and the read is not complete, runs it again until the horizon has passed the
 * head seen by the first attempt, or `waitMs` has gone by. So a read shows everything committed
 * before it began, unless an older transaction stays open longer than `waitMs`; it never shows
 * anything at or above the horizon.
 */
export async function readBelowWatermark<R extends WatermarkReading>(waitMs: number, read: () => Promise<R>): Promise<R> {
  const deadline = Date.now() + waitMs;
  let target: bigint | undefined;
  let delay = 1;
  for (let attempt = 0; ; attempt++) {
    const reading = await read();
    if (attempt === 0 && reading.head !== null) target = BigInt(reading.head);
    if (reading.complete || target === undefined || BigInt(reading.xmin) > target || Date.now() >= deadline) {
      return reading;
    }
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 16);
  }
}
