/**
 * Warnings of the runtime: what an operator must see at once, though no caller is waiting for it
 * (a follower that cannot process, a snapshot that could not be taken). Until a logger option
 * exists they go to stderr, one line each.
 */
export function warn(message: string): void {
  process.stderr.write(`eventsourcing warning: ${message}\n`);
}
