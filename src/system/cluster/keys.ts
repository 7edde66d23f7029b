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

/**
 * Which member should own each slot: rendezvous hashing, bounded so that the spread is within one
 * slot. Pairs (member, slot) are taken in order of their rendezvous score, highest first; a member
 * takes a slot while it has fewer than floor(slots / members), or exactly that many while fewer than
 * (slots mod members) members have one more. The result depends only on the two sets, so every
 * member computes the same; a member joining or leaving moves few slots (those whose best score
 * was theirs, and a few more to keep the spread even).
 */
export function assignSlots(members: readonly string[], slots: readonly string[]): Map<string, string> {
  const owners = new Map<string, string>();
  if (members.length === 0) return owners;
  const floor = Math.floor(slots.length / members.length);
  const extra = slots.length % members.length;
  const pairs = members.flatMap((member) => slots.map((slot) => ({ member, slot, score: rendezvousScore(member, slot) })));
  pairs.sort((a, b) => (a.score === b.score ? (a.member < b.member ? -1 : 1) : a.score > b.score ? -1 : 1));
  const counts = new Map(members.map((member) => [member, 0]));
  let atCeiling = 0;
  for (const { member, slot } of pairs) {
    if (owners.has(slot)) continue;
    const count = counts.get(member)!;
    if (count < floor || (count === floor && atCeiling < extra)) {
      owners.set(slot, member);
      counts.set(member, count + 1);
      if (count === floor) atCeiling += 1;
    }
  }
  return owners;
}
