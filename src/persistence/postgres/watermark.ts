import { setTimeout as sleep } from 'node:timers/promises';

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
  /** txid of the notification the caller was told of (`waitFor`), when it asked and the row exists. */
  readonly waitedFor?: string | null;
}

/** How long a read waits for transactions that hold back rows committed before it. */
export interface WatermarkWaits {
  /** For what was committed before the read began (default reads). */
  readonly watermarkWaitMs: number;
  /** For a notification the caller was told of (`waitFor`): past this, the read gives up. */
  readonly visibilityTimeoutMs: number;
}

/**
 * Runs a watermark read and, when committed rows were held back by transactions still running
 * (head >= xmin) and the read is not complete, runs it again until the horizon has passed the
 * head seen by the first attempt, or `waitMs` has gone by. So a read shows everything committed
 * before it began, unless an older transaction stays open longer than `waitMs`; it never shows
 * anything at or above the horizon. When the caller was told of a committed notification
 * (`waitedFor`), the read waits until the horizon has passed that one, up to
 * `visibilityTimeoutMs`, and then reports `heldBack`.
 */
export async function readBelowWatermark<R extends WatermarkReading>(
  waits: WatermarkWaits,
  read: () => Promise<R>,
): Promise<R & { readonly heldBack: boolean }> {
  const started = Date.now();
  let target: bigint | undefined;
  let told = false;
  let delay = 1;
  for (let attempt = 0; ; attempt++) {
    const reading = await read();
    if (attempt === 0) {
      told = typeof reading.waitedFor === 'string';
      if (told) target = BigInt(reading.waitedFor!);
      else if (reading.head !== null) target = BigInt(reading.head);
    }
    if (reading.complete || target === undefined || BigInt(reading.xmin) > target) return { ...reading, heldBack: false };
    const deadline = started + (told ? waits.visibilityTimeoutMs : waits.watermarkWaitMs);
    if (Date.now() >= deadline) return { ...reading, heldBack: told };
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 16);
  }
}
