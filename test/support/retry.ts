import { setTimeout as sleep } from 'node:timers/promises';

/** Calls `read` until it succeeds (a store whose connections are being cut recovers), at most `attempts` times, 10 ms apart. */
export async function withRetries<T>(read: () => Promise<T>, attempts = 50): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(10);
    }
  }
}
