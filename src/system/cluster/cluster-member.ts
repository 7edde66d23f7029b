import { hostname } from 'node:os';
import { OperationalError } from '../../persistence';
import type { Follower } from '../follower';
import { upstreamStatuses, type UpstreamStatus } from '../runners/status';
import type { Logger } from '../../observability';
import { shapeOf, type SystemShape } from '../system-shape';
import type { System } from '../system';
import { lockClasses, lockKey, slotName, type Slot } from './keys';
import { LockConnection, readCluster, type MemberRow, type Reading } from './lock-connection';
import { plan, type PlanState } from './plan';
import type { ResolvedClusterOptions } from './options';

/** What a member does with the slots it takes and gives up (the runner's processing). */
export interface SlotWork {
  /** Start processing `slot` (its lock is held). */
  start(slot: Slot): void | Promise<void>;
  /**
   * Stop processing `slot`. `now`: the member lost its session, so another member may already have
   * the slot; processing must stop at once (the batch in flight is abandoned, and rolls back).
   * Otherwise the batch in flight finishes first; the lock is released after this resolves.
   */
  stop(slot: Slot, now: boolean): Promise<void>;
  /** A member recorded something that followers of `leaderName` in `pipelineId` should pull. */
  prompted(leaderName: string, pipelineId: number, lastNotificationId: number): void;
}

/** Where a member tells what moved (slots taken or handed over, the session lost or regained). */
export interface ClusterLog {
  readonly logger: Logger;
  /** Also told of each move (the command line prints them). */
  readonly onEvent?: (event: string, fields: Record<string, unknown>) => void;
}

/** A slot of the cluster, as status shows it: its owner, and (from a runner) its positions, heads and lag. */
export interface ClusterSlotStatus extends Slot {
  readonly owner: MemberRow | null;
  readonly upstreams?: readonly UpstreamStatus[];
  readonly lag?: number | null;
}

export interface ClusterStatus {
  /** The member that read it (undefined when read from outside the cluster). */
  readonly memberId: string | undefined;
  readonly schema: string;
  readonly members: readonly MemberRow[];
  readonly slots: readonly ClusterSlotStatus[];
}

/**
 * One member of a cluster: the runners over one PostgreSQL database and schema that share its
 * slots (each process application in each pipeline). Each heartbeat reads the live members and
 * the slot locks in one round trip, plans (plan.ts) which slots to take and to hand over, and does
 * it. A member whose session breaks, or whose heartbeat fails or outlasts its timeout, stops
 * processing every slot at once and joins again with a new session; the server ends a session that
 * stays silent for a few heartbeats (idle_session_timeout), releasing its locks to the others. The
 * tracking records' compare-and-set stays the last line: even two owners at once cannot process a
 * notification twice.
 */
export class ClusterMember {
  readonly memberId: string;
  readonly #slots: ReadonlyMap<string, Slot>;
  readonly #keys: ReadonlyMap<number, string>;
  #connection: LockConnection | undefined;
  #state: PlanState = { held: new Map(), freeSince: new Map() };
  /** The slots being processed here (started and not stopped). */
  readonly #working = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;
  #lastReading: Reading | undefined;
  /** (leader, pipeline) pairs with a NOTIFY waiting to be sent, with the newest id recorded. */
  readonly #toNotify = new Map<string, number>();
  #notifying = false;
  /** Slots being handed over (their batch in flight finishing): not handed over again meanwhile. */
  readonly #releasing = new Set<string>();
  /** After a lost session the member rejoins only from then, so that the others adopt its slots first. */
  #rejoinAt = 0;

  readonly #shape: SystemShape;

  /** A member running the followers of `system` in `pipelineIds`: one slot per (follower, pipeline). */
  constructor(
    private readonly options: ResolvedClusterOptions,
    system: System,
    private readonly pipelineIds: readonly number[],
    private readonly work: SlotWork,
    private readonly log: ClusterLog,
  ) {
    this.memberId = options.memberId ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    this.#shape = shapeOf(system);
    const slots = pipelineIds.flatMap((pipelineId) => system.followers.map((applicationName) => ({ applicationName, pipelineId })));
    this.#slots = new Map(slots.map((slot) => [slotName(slot), slot]));
    this.#keys = new Map(slots.map((slot) => [lockKey(`${options.schema}:${slotName(slot)}`), slotName(slot)]));
  }

  /** Joins (refusing clearly when PostgreSQL cannot be reached, or holds another system) and takes its first slots. */
  async start(): Promise<void> {
    this.#connection = await this.connect();
    await this.tick();
    this.schedule();
  }

  /** Hands every slot over (each batch in flight finishes), leaves the cluster. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#ticking;
    await Promise.all([...this.#working].map((name) => this.stopSlot(name, false)));
    this.#connection?.close();
    this.#connection = undefined;
  }

  /** Sends one coalesced NOTIFY per (leader, pipeline) after a recording committed. */
  recorded(leaderName: string, pipelineId: number, lastNotificationId: number): void {
    if (!this.options.notify) return;
    const key = `${pipelineId}:${leaderName}`;
    this.#toNotify.set(key, Math.max(this.#toNotify.get(key) ?? 0, lastNotificationId));
    if (!this.#notifying) void this.sendNotifications();
  }

  /** Every slot of the cluster with its owner, and the live members, as PostgreSQL shows them now. */
  async status(): Promise<ClusterStatus> {
    const reading = (this.#connection !== undefined && !this.#connection.lost ? await this.#connection.beat().catch(() => undefined) : undefined) ?? this.#lastReading;
    return clusterStatusOf(this.memberId, this.options.schema, [...this.#slots.values()], reading);
  }

  /** For tests: start processing a slot here whether or not this member holds its lock. */
  forceWorking(slot: Slot): Promise<void> | void {
    const name = slotName(slot);
    if (this.#working.has(name)) return;
    this.#working.add(name);
    return this.work.start(slot);
  }

  private async connect(): Promise<LockConnection> {
    const { options } = this;
    const classes = lockClasses(options.schema);
    return LockConnection.open({
      url: options.url,
      schema: options.schema,
      classes,
      memberId: this.memberId,
      memberKey: lockKey(this.memberId),
      host: hostname(),
      pid: process.pid,
      pipelineIds: this.pipelineIds,
      shape: this.#shape,
      statementTimeoutMs: options.heartbeatTimeoutMs,
      idleSessionTimeoutMs: options.heartbeatTimeoutMs + 2 * options.heartbeatIntervalMs,
      channel: channelOf(options.schema),
      onNotification: (payload) => this.notified(payload),
      onLost: (error) => this.lost(error),
    });
  }

  private schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#ticking = this.tick().finally(() => {
        this.#ticking = undefined;
        this.schedule();
      });
    }, this.options.heartbeatIntervalMs);
  }

  /** One heartbeat: read, plan, take and hand over; or join again after the session was lost. */
  private async tick(): Promise<void> {
    try {
      if (this.#connection === undefined || this.#connection.lost) {
        if (Date.now() < this.#rejoinAt) return;
        this.#connection = await this.connect();
        this.told('rejoined', { memberId: this.memberId });
      }
      const connection = this.#connection;
      const reading = await connection.beat();
      this.#lastReading = reading;
      const holders = new Map<string, string>();
      for (const [key, member] of reading.slotHolders) {
        const name = this.#keys.get(key);
        if (name !== undefined) holders.set(name, member.memberId);
      }
      const now = Date.now();
      const next = plan(this.memberId, [...this.#slots.keys()], { members: reading.members.map((member) => member.memberId), holders }, this.#state, now, this.options);
      this.#state = next.state;
      const taken: string[] = [];
      for (const name of next.acquire) {
        if (this.#stopped) break;
        if (!(await connection.tryLock(this.keyOf(name)))) continue;
        this.#state = { ...this.#state, held: new Map(this.#state.held).set(name, Date.now()) };
        this.told('slot taken', { slot: name, memberId: this.memberId });
        if (!this.#working.has(name)) {
          this.#working.add(name);
          taken.push(name);
        }
      }
      // Workers start, and hand over, beside the heartbeats: a heartbeat that waited for them would
      // leave the session silent long enough for the server to end it.
      for (const name of taken) void this.work.start(this.#slots.get(name)!);
      for (const name of next.release) {
        if (this.#stopped || this.#releasing.has(name)) continue;
        this.#releasing.add(name);
        void this.stopSlot(name, false).finally(() => {
          this.#releasing.delete(name);
          const held = new Map(this.#state.held);
          held.delete(name);
          this.#state = { ...this.#state, held };
          this.told('slot handed over', { slot: name, memberId: this.memberId });
        });
      }
      // Slots processed here whose lock is not held (forced by hand, or the lock was lost) stay as they are.
    } catch (error) {
      this.lost(error as Error);
    }
  }

  /** The session is gone or unanswering: stop every slot at once, before the server can give its locks to another. */
  private lost(error: Error): void {
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.close();
    this.#state = { held: new Map(), freeSince: new Map() };
    // Its slots are the others' now: they see it gone at their next heartbeat and take them.
    this.#rejoinAt = Date.now() + 2 * this.options.heartbeatIntervalMs;
    if (this.#working.size > 0 || !this.#stopped) this.told('session lost', { memberId: this.memberId, error: error.message });
    for (const name of [...this.#working]) void this.stopSlot(name, true);
  }

  private async stopSlot(name: string, now: boolean): Promise<void> {
    if (!this.#working.delete(name)) return;
    await this.work.stop(this.#slots.get(name)!, now);
    if (!now) await this.#connection?.unlock(this.keyOf(name)).catch(() => undefined);
  }

  /** Slots moving are info; a session lost is a warning (processing stopped until the member rejoins). */
  private told(event: string, fields: Record<string, unknown>): void {
    if (event === 'session lost') this.log.logger.warn({ ...fields, event }, `cluster: ${event}`);
    else this.log.logger.info({ ...fields, event }, `cluster: ${event}`);
    this.log.onEvent?.(event, fields);
  }

  private notified(payload: string): void {
    const match = /^(\d+):(\d+):(.*)$/.exec(payload);
    if (match === null) return;
    this.work.prompted(match[3], Number(match[1]), Number(match[2]));
  }

  private async sendNotifications(): Promise<void> {
    this.#notifying = true;
    try {
      // What is recorded while a NOTIFY is in flight goes in the next one: one per (leader, pipeline) at a time.
      while (this.#toNotify.size > 0) {
        const [key, lastId] = this.#toNotify.entries().next().value as [string, number];
        this.#toNotify.delete(key);
        const [pipelineId, leaderName] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
        const connection = this.#connection;
        if (connection === undefined || connection.lost) continue; // polling makes up for it
        await connection.notify(`${pipelineId}:${lastId}:${leaderName}`).catch(() => undefined);
      }
    } finally {
      this.#notifying = false;
    }
  }

  private keyOf(name: string): number {
    for (const [key, slot] of this.#keys) if (slot === name) return key;
    throw new OperationalError(`no lock key for slot ${name}`);
  }
}

/** The channel of a cluster's prompts. */
function channelOf(schema: string): string {
  return `eventsourcing_${lockKey(schema).toString(36)}`;
}

/** What status shows of a reading of the cluster. */
export function clusterStatusOf(memberId: string | undefined, schema: string, slots: readonly Slot[], reading: Reading | undefined): ClusterStatus {
  const owners = new Map<number, MemberRow>(reading?.slotHolders ?? []);
  return {
    memberId,
    schema,
    members: reading?.members ?? [],
    slots: slots.map((slot) => ({ ...slot, owner: owners.get(lockKey(`${schema}:${slotName(slot)}`)) ?? null })),
  };
}

/** The cluster in `schema` over the slots of `slots`, read from PostgreSQL by a session that joins nothing. */
export async function readClusterStatus(url: string | undefined, schema: string, slots: readonly Slot[]): Promise<ClusterStatus> {
  return clusterStatusOf(undefined, schema, slots, await readCluster(url, schema, lockClasses(schema)));
}

/** `status` with each slot's positions, heads and lag, read through the runner's instance of its follower. */
export async function withSlotPositions(status: ClusterStatus, followerOf: (slot: Slot) => Follower): Promise<ClusterStatus> {
  const slots = await Promise.all(
    status.slots.map(async (slot) => {
      const upstreams = await upstreamStatuses(followerOf(slot), slot.pipelineId);
      const lag = upstreams.some((upstream) => upstream.lag === null) ? null : upstreams.reduce((sum, upstream) => sum + upstream.lag!, 0);
      return { ...slot, upstreams, lag };
    }),
  );
  return { ...status, slots };
}
