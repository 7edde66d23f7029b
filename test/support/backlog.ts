// A follower with a backlog to work through, for tests of how runners stop part-way.
import type { DomainEvent, EnvType, ProcessEvent } from '../../src';
import { Counters, WorldsApplication } from '../seed-example';

/** Counters in batches of 10, whose policy takes a turn of the event loop per notification. */
export class SmallBatchCounters extends Counters {
  static batchSize = 10;

  async policy(event: DomainEvent, processEvent: ProcessEvent): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await super.policy(event, processEvent);
  }
}

/** Records a world and `count` commands of 'backlog' through a leader of its own (nothing follows it). */
export async function recordBacklog(leader: typeof WorldsApplication, env: EnvType, count: number): Promise<void> {
  const writer = new leader({ env });
  const id = await writer.createWorld();
  for (let i = 0; i < count; i++) await writer.makeItSo(id, 'backlog');
  await writer.close();
}

/** The recorded position of SmallBatchCounters in `upstreamName`'s log. */
export async function backlogPosition(env: EnvType, upstreamName: string): Promise<number> {
  const probe = new SmallBatchCounters({ env });
  try {
    return await probe.trackingPosition(upstreamName);
  } finally {
    await probe.close();
  }
}
