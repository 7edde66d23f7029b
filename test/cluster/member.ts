// Run in a process of its own: one member of a cluster (a MultiprocessRunner with cluster: ... and
// worker threads) over the PostgreSQL database and schema of its environment, on the chain system
// (WorldsApplication -> Counters -> Tallies) in pipelines 0-3 (PIPELINES: another count): eight slots. It prints one JSON line
// per event: {"event":"ready"}, each slot taken or handed over, the session lost and regained.
// Settings: RUNNER (multiprocess, the default, or actor: an ActorRunner with in-process slaves),
// MEMBER_ID, CLUSTER (JSON of cluster options), POLL_MS, SEND (commands it sends itself,
// into every pipeline, after it is ready), FORCE (a slot "App:pipeline" it processes regardless).
import { join } from 'node:path';
import { ActorRunner, MultiprocessRunner } from '../../src';
import { WorldsApplication } from '../seed-example';
import { system } from '../system/multiprocess/chain-system';

const print = (event: string, fields: Record<string, unknown> = {}) => console.log(JSON.stringify({ event, ...fields, at: Date.now() }));

async function main(): Promise<void> {
  const pipelineIds = Array.from({ length: Number(process.env.PIPELINES ?? 4) }, (_, i) => i);
  const common = {
    pipelineIds,
    pollIntervalMs: Number(process.env.POLL_MS ?? 200),
    supervision: { minBackoffMs: 10, maxBackoffMs: 200 },
    cluster: { memberId: process.env.MEMBER_ID, ...JSON.parse(process.env.CLUSTER ?? '{}') },
    onClusterEvent: (event: string, fields: Record<string, unknown>) => print(event, fields),
  };
  const runner =
    process.env.RUNNER === 'actor'
      ? new ActorRunner(system, common)
      : new MultiprocessRunner(system, {
          ...common,
          isolation: 'thread',
          systemModule: { path: join(__dirname, '..', 'system', 'multiprocess', 'chain-system.ts') },
        });
  await runner.start();
  print('ready', { pid: process.pid });
  if (process.env.FORCE) {
    const [app, pipeline] = process.env.FORCE.split(':');
    if (!(runner instanceof MultiprocessRunner)) throw new Error('FORCE is for the multiprocess runner');
    await runner.forceSlot(app, Number(pipeline));
    print('forced', { slot: process.env.FORCE });
  }
  const send = Number(process.env.SEND ?? 0);
  if (send > 0) {
    for (const pipelineId of pipelineIds) {
      const worlds = runner.get(WorldsApplication, pipelineId);
      const id = await worlds.createWorld();
      for (let i = 0; i < send; i++) await worlds.makeItSo(id, `thing-${pipelineId}`);
    }
    print('sent', { commands: send * pipelineIds.length });
  }
  const stop = () => {
    void runner.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
