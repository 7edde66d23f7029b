import { createHash } from 'node:crypto';

/**
 * A non-negative 31-bit key from `text`, for PostgreSQL's two-key advisory locks (pg_locks shows
 * such a key as an oid, so keys kept below 2^31 read back as the same number). Two texts may share
 * a key (one in two billion): a clash makes two slots share a lock, which only serialises them.
 */
export function lockKey(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0) & 0x7fffffff;
}

/** The advisory lock classes of one cluster (its schema): members' locks and slots' locks. */
export interface LockClasses {
  readonly members: number;
  readonly slots: number;
}

export function lockClasses(schema: string): LockClasses {
  return { members: lockKey(`eventsourcing:${schema}:members`), slots: lockKey(`eventsourcing:${schema}:slots`) };
}

/** A slot: one process application in one pipeline, processed by exactly one member at a time. */
export interface Slot {
  readonly applicationName: string;
  readonly pipelineId: number;
}

export function slotName(slot: Slot): string {
  return `${slot.applicationName}:${slot.pipelineId}`;
}

/** Rendezvous (highest random weight) score of `memberId` for `slot`: the highest score owns it. */
export function rendezvousScore(memberId: string, slot: string): bigint {
  return createHash('sha1').update(memberId).update('\0').update(slot).digest().readBigUInt64BE(0);
}

/** The member that should own `slot` among `members` (undefined when there is none). */
export function rendezvousOwner(members: readonly string[], slot: string): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const member of members) {
    const score = rendezvousScore(member, slot);
    if (score > bestScore || (score === bestScore && best !== undefined && member < best)) {
      best = member;
      bestScore = score;
    }
  }
  return best;
}
