import { assignSlots } from './keys';

/** What a member sees of the cluster at one heartbeat. */
export interface ClusterView {
  /** The live members' ids (each holds its member lock), this one among them. */
  readonly members: readonly string[];
  /** The member holding each slot's lock, by slot name (slots nobody holds are absent). */
  readonly holders: ReadonlyMap<string, string>;
}

/** What a member knows between heartbeats. */
export interface PlanState {
  /** When this member took each slot it holds (ms). */
  readonly held: ReadonlyMap<string, number>;
  /** When each slot was first seen free, while it stays free (ms). */
  readonly freeSince: ReadonlyMap<string, number>;
}

export interface PlanSettings {
  /** A slot taken is kept at least this long before it moves to another live member (flapping). */
  readonly minHoldMs: number;
  /** A free slot that its rendezvous owner has not taken for this long is adopted by any member. */
  readonly adoptAfterMs: number;
}

export interface Plan {
  readonly state: PlanState;
  /** Slots to take now (try their locks). */
  readonly acquire: readonly string[];
  /** Slots to hand over: finish the batch in flight, then release. */
  readonly release: readonly string[];
}

/**
 * Which slots a member takes and hands over after a heartbeat, as a pure function. Slots are
 * spread over the live members by bounded rendezvous hashing (assignSlots): within one slot of
 * even, and a member joining or leaving moves few. A free slot is taken by its rendezvous owner at once (a dead member's slots
 * are free as soon as PostgreSQL ends its session, so adoption is never delayed), or by anyone once
 * it has stayed free for `adoptAfterMs`. A held slot is handed over only to a live member whose
 * slot it is, and only after `minHoldMs`, which damps flapping.
 */
export function plan(self: string, slots: readonly string[], view: ClusterView, state: PlanState, now: number, settings: PlanSettings): Plan {
  const held = new Map(state.held);
  const freeSince = new Map<string, number>();
  const acquire: string[] = [];
  const release: string[] = [];
  const members = view.members.includes(self) ? view.members : [...view.members, self];
  const owners = assignSlots(members, slots);
  for (const slot of slots) {
    const owner = owners.get(slot);
    const holder = view.holders.get(slot);
    if (holder === undefined) {
      const since = state.freeSince.get(slot) ?? now;
      freeSince.set(slot, since);
      if (!held.has(slot) && (owner === self || now - since >= settings.adoptAfterMs)) acquire.push(slot);
    } else if (holder === self && owner !== self && now - (held.get(slot) ?? now) >= settings.minHoldMs) {
      release.push(slot);
    }
  }
  // What PostgreSQL shows as held by this member is what it holds (a lost session held nothing).
  for (const slot of held.keys()) if (view.holders.get(slot) !== self) held.delete(slot);
  return { state: { held, freeSince }, acquire, release };
}
