// The pure parts of cluster membership: the bounded rendezvous assignment and the plan of what a
// member takes and hands over at each heartbeat.
import { assignSlots } from '../../src/system/cluster/keys';
import { plan, type PlanState } from '../../src/system/cluster/plan';

const SLOTS = Array.from({ length: 8 }, (_, i) => `Counters:${i}`);
const SETTINGS = { minHoldMs: 10_000, adoptAfterMs: 3000 };
const EMPTY: PlanState = { held: new Map(), freeSince: new Map() };

function spread(owners: Map<string, string>): number[] {
  const counts = new Map<string, number>();
  for (const member of owners.values()) counts.set(member, (counts.get(member) ?? 0) + 1);
  return [...counts.values()].sort();
}

describe('the assignment of slots to members', () => {
  it('gives every slot one owner, within one slot of an even spread, for any number of members', () => {
    for (let members = 1; members <= 9; members++) {
      const ids = Array.from({ length: members }, (_, i) => `member-${i}`);
      for (const slots of [SLOTS, SLOTS.slice(0, 7), SLOTS.slice(0, 3)]) {
        const owners = assignSlots(ids, slots);
        expect(owners.size).toBe(slots.length);
        const counts = spread(owners);
        expect(Math.max(...counts) - Math.min(...counts, ...(ids.length > slots.length ? [0] : []))).toBeLessThanOrEqual(1);
      }
    }
  });

  it('is the same whatever order the members are listed in', () => {
    expect(assignSlots(['a', 'b', 'c'], SLOTS)).toEqual(assignSlots(['c', 'a', 'b'], SLOTS));
  });

  it('moves few slots when a member joins', () => {
    const before = assignSlots(['a', 'b', 'c'], SLOTS);
    const after = assignSlots(['a', 'b', 'c', 'd'], SLOTS);
    const moved = SLOTS.filter((slot) => before.get(slot) !== after.get(slot));
    expect(moved.length).toBeLessThanOrEqual(4);
    expect(moved.filter((slot) => after.get(slot) !== 'd').length).toBeLessThanOrEqual(2);
  });
});

describe('the plan of a heartbeat', () => {
  it('takes the free slots that are its own at once, and others only once they stayed free for adoptAfterMs', () => {
    const owners = assignSlots(['a', 'b'], SLOTS);
    const mine = SLOTS.filter((slot) => owners.get(slot) === 'a');
    const first = plan('a', SLOTS, { members: ['a', 'b'], holders: new Map() }, EMPTY, 0, SETTINGS);
    expect(first.acquire).toEqual(mine);
    const later = plan('a', SLOTS, { members: ['a', 'b'], holders: new Map() }, first.state, 3000, SETTINGS);
    expect(later.acquire).toEqual(SLOTS); // b never took its own: a adopts them
  });

  it("takes a dead member's slots at once: it is not among the live members", () => {
    const holders = new Map(SLOTS.map((slot) => [slot, 'a'] as const));
    const alive = plan('b', SLOTS, { members: ['a', 'b'], holders }, EMPTY, 0, SETTINGS);
    expect(alive.acquire).toEqual([]);
    const dead = plan('b', SLOTS, { members: ['b'], holders: new Map() }, alive.state, 100, SETTINGS);
    expect(dead.acquire).toEqual(SLOTS);
  });

  it('hands a slot over to the live member it belongs to, only after holding it for minHoldMs', () => {
    const holders = new Map(SLOTS.map((slot) => [slot, 'a'] as const));
    const held: PlanState = { held: new Map(SLOTS.map((slot) => [slot, 0])), freeSince: new Map() };
    const theirs = SLOTS.filter((slot) => assignSlots(['a', 'b'], SLOTS).get(slot) === 'b');
    expect(plan('a', SLOTS, { members: ['a', 'b'], holders }, held, 9_999, SETTINGS).release).toEqual([]);
    expect(plan('a', SLOTS, { members: ['a', 'b'], holders }, held, 10_000, SETTINGS).release).toEqual(theirs);
  });
});
