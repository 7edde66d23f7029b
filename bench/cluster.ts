// One system across members over one PostgreSQL (member processes of test/cluster/member.ts, worker
// threads, the chain system WorldsApplication -> Counters -> Tallies): failover after kill -9 of a
// member and after its connection goes silent (time until a command recorded just after is
// processed elsewhere), throughput with 1, 2 and 3 members over 8 pipelines, and what idle members
// cost the server.
import { Client } from 'pg';
import { lockKey } from '../src/system/cluster/keys';
import { counted, eventually, MemberProcess, sendCommands, SilentProxy, slotOwners } from '../test/cluster/support';
import { fmt, POSTGRES_URL, table, withSchema } from './support';

const FAILOVERS = Number(process.env.BENCH_FAILOVERS ?? 5);
const PER_PIPELINE = Number(process.env.BENCH_CLUSTER_COMMANDS ?? 250);

const envOf = (schema: string, pipelines: number) => ({
  PERSISTENCE: 'postgres',
  POSTGRES_URL,
  POSTGRES_SCHEMA: schema,
  POSTGRES_POOL_SIZE: '1',
  POSTGRES_LOG_POOL_SIZE: '1',
  PIPELINES: String(pipelines),
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The pipelines in which `memberId` holds a slot (of Counters or Tallies). */
async function pipelinesOf(schema: string, memberId: string, pipelines: number): Promise<number[]> {
  const owners = await slotOwners(schema);
  const holds = (slot: string) => owners.get(lockKey(`${schema}:${slot}`)) === memberId;
  return Array.from({ length: pipelines }, (_, p) => p).filter((p) => holds(`Counters:${p}`) || holds(`Tallies:${p}`));
}

/** Resolves once every slot is owned, none of them by `memberId`. */
function ownedElsewhere(schema: string, memberId: string): Promise<true> {
  return eventually(
    `the slots of ${memberId} owned elsewhere`,
    async () => {
      const owners = await slotOwners(schema);
      return owners.size === 8 && ![...owners.values()].includes(memberId) ? true : undefined;
    },
    60_000,
    20,
  );
}

/**
 * Milliseconds from `fault` of `memberId` until its slots are owned by others and a command sent
 * into each pipeline where it held one has been processed there (counted, and tallied).
 */
async function untilProcessedElsewhere(env: Record<string, string>, memberId: string, fault: () => Promise<void> | void): Promise<number> {
  const schema = env.POSTGRES_SCHEMA;
  const pipelineIds = await pipelinesOf(schema, memberId, 4);
  const before = await counted(env, pipelineIds);
  const at = performance.now();
  await fault();
  await ownedElsewhere(schema, memberId);
  await sendCommands(env, pipelineIds, 1);
  await eventually(
    'the commands processed elsewhere',
    async () => {
      const now = await counted(env, pipelineIds);
      return now.counts.every((count, i) => count === before.counts[i] + 1) && now.tally === before.tally + pipelineIds.length ? true : undefined;
    },
    60_000,
    20,
  );
  return performance.now() - at;
}

async function killFailovers(): Promise<number[]> {
  return withSchema(async (schema) => {
    const env = envOf(schema, 4);
    const members = await Promise.all(['a', 'b', 'c'].map((id) => MemberProcess.start(id, env)));
    const times: number[] = [];
    try {
      for (let round = 0; round < FAILOVERS; round++) {
        await eventually('every slot owned', async () => ((await slotOwners(schema)).size === 8 ? true : undefined), 60_000);
        const victim = members[0];
        times.push(await untilProcessedElsewhere(env, victim.memberId, () => victim.kill('SIGKILL').then(() => undefined)));
        members.splice(members.indexOf(victim), 1);
        members.push(await MemberProcess.start(`${victim.memberId}-${round}`, env));
      }
    } finally {
      await Promise.all(members.map((member) => member.kill('SIGKILL')));
    }
    return times;
  });
}

async function silentFailovers(): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < Math.min(3, FAILOVERS); round++) {
    await withSchema(async (schema) => {
      const env = envOf(schema, 4);
      const proxy = await SilentProxy.start();
      const members: MemberProcess[] = [];
      try {
        members.push(await MemberProcess.start('silent', env, { CLUSTER: JSON.stringify({ url: proxy.url }) }));
        members.push(...(await Promise.all(['b', 'c'].map((id) => MemberProcess.start(id, env)))));
        await eventually('every slot owned', async () => ((await slotOwners(schema)).size === 8 ? true : undefined), 60_000);
        // Only its lock connection is cut (its workers still reach PostgreSQL): what counts is its slots processed elsewhere.
        times.push(await untilProcessedElsewhere(env, 'silent', () => proxy.silence()));
      } finally {
        await Promise.all(members.map((member) => member.kill('SIGKILL')));
        await proxy.close();
      }
    });
  }
  return times;
}

async function throughput(memberCount: number): Promise<number> {
  return withSchema(async (schema) => {
    const env = envOf(schema, 8);
    const members = await Promise.all(Array.from({ length: memberCount }, (_, i) => MemberProcess.start(`m${i}`, env, { CLUSTER: JSON.stringify({ minHoldMs: 300 }) })));
    try {
      await eventually('every slot owned, evenly', async () => {
        const owners = await slotOwners(schema);
        const counts = new Map<string, number>();
        for (const member of owners.values()) counts.set(member, (counts.get(member) ?? 0) + 1);
        return owners.size === 16 && counts.size === memberCount && Math.max(...counts.values()) - Math.min(...counts.values()) <= 1 ? true : undefined;
      }, 60_000);
      const pipelineIds = Array.from({ length: 8 }, (_, i) => i);
      const started = performance.now();
      await sendCommands(env, pipelineIds, PER_PIPELINE);
      await eventually(
        'every command counted',
        async () => {
          const { counts, tally } = await counted(env, pipelineIds);
          return counts.every((count) => count === PER_PIPELINE) && tally === PER_PIPELINE * 8 ? true : undefined;
        },
        300_000,
        50,
      );
      return (PER_PIPELINE * 8) / ((performance.now() - started) / 1000);
    } finally {
      await Promise.all(members.map((member) => member.stop()));
    }
  });
}

/** Transactions per second on the server while `members` idle members run (default settings, POLL_MS 1000). */
async function idleCost(memberCount: number): Promise<number> {
  return withSchema(async (schema) => {
    const env = envOf(schema, 4);
    const members = await Promise.all(Array.from({ length: memberCount }, (_, i) => MemberProcess.start(`idle${i}`, env, { POLL_MS: '1000' })));
    const client = new Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const read = async () => Number((await client.query(`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`)).rows[0].n);
      const before = await read();
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      await client.query('SELECT pg_stat_clear_snapshot()');
      const after = await read();
      return (after - before) / 10;
    } finally {
      await client.end();
      await Promise.all(members.map((member) => member.stop()));
    }
  });
}

export async function clusterBenchmark(): Promise<void> {
  const kills = await killFailovers();
  const silent = await silentFailovers();
  console.log('\nCluster failover: from the fault to a command recorded just after it processed by another member (3 members, 8 slots, default settings)\n');
  table(
    ['fault', 'runs', 'min', 'median', 'max'],
    [
      ['kill -9 of a member', String(kills.length), `${fmt(Math.min(...kills))} ms`, `${fmt(median(kills))} ms`, `${fmt(Math.max(...kills))} ms`],
      ['its connection goes silent', String(silent.length), `${fmt(Math.min(...silent))} ms`, `${fmt(median(silent))} ms`, `${fmt(Math.max(...silent))} ms`],
    ],
  );
  const rows: string[][] = [];
  let one: number | undefined;
  for (const members of [1, 2, 3]) {
    const rate = await throughput(members);
    one ??= rate;
    rows.push([String(members), `${fmt(rate)} cmd/s`, `${fmt(rate / one, 2)}×`]);
  }
  console.log(`\nCluster throughput: ${fmt(PER_PIPELINE * 8)} commands into 8 pipelines (8 concurrent senders in this process), until Counters and Tallies processed all (16 slots)\n`);
  table(['members', 'throughput', 'vs 1'], rows);
  const idle = await idleCost(3);
  console.log(`\nIdle cost: 3 idle members (8 slots, heartbeat 1 s, poll 1 s): ${fmt(idle, 1)} transactions/s on the server (pg_stat_database)\n`);
}
