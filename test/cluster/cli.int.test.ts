// The operator's command line: `run` starts a member that logs its slots and drains on SIGTERM;
// `status` reads every process's positions and the cluster's owners from PostgreSQL; bad arguments
// get a usage message and a non-zero exit.
import { join } from 'node:path';
import { cli } from '../support/cli';
import { postgresStore } from '../support/stores';
import { eventually, sendCommands } from './support';

const SYSTEM = join('test', 'system', 'multiprocess', 'chain-system.ts');

describe('the command line', () => {
  const store = postgresStore();
  let env: Record<string, string>;
  beforeEach(async () => {
    await store.setUp();
    env = { ...store.env(), POSTGRES_POOL_SIZE: '1', POSTGRES_LOG_POOL_SIZE: '1' };
  });
  afterEach(() => store.tearDown());

  it('runs a cluster member that logs its slots, shows them in status, and drains on SIGTERM', async () => {
    const member = cli(['run', '--system', SYSTEM, '--pipelines', '0-1', '--cluster', '--isolation', 'thread'], env);
    try {
      await eventually('the member to run', () => (/ running runner=multiprocess pipelines=0,1/.test(member.output.stdout) ? true : undefined), 60_000);
      expect(member.output.stdout.match(/ slot taken slot=\S+/g)?.length).toBe(4);
      await sendCommands(env, [0, 1], 20);
      const shown = await eventually(
        'status to show the work done',
        async () => {
          const status = cli(['status', '--system', SYSTEM, '--pipelines', '0-1', '--json'], env);
          expect(await status.exited).toBe(0);
          const parsed = JSON.parse(status.output.stdout);
          return parsed.processes.every((process: { lag: number }) => process.lag === 0) && parsed.processes[0].upstreams[0].head > 0 ? parsed : undefined;
        },
        30_000,
        500,
      );
      expect(shown.cluster.members).toHaveLength(1);
      expect(shown.processes.map((process: { applicationName: string; pipelineId: number }) => `${process.applicationName}:${process.pipelineId}`)).toEqual([
        'Counters:0',
        'Tallies:0',
        'Counters:1',
        'Tallies:1',
      ]);
      expect(new Set(shown.processes.map((process: { owner: string }) => process.owner))).toEqual(new Set([shown.cluster.members[0].memberId]));
      const table = cli(['status', '--system', SYSTEM, '--pipelines', '0-1'], env);
      expect(await table.exited).toBe(0);
      expect(table.output.stdout).toMatch(/^process\s+kind\s+pipeline\s+position\/head\s+lag\s+owner/m);
      expect(table.output.stdout).toMatch(/^Counters\s+process\s+0\s+WorldsApplication (\d+)\/\1\s+0\s+\S+/m); // processed up to the head
    } finally {
      member.child.kill('SIGTERM');
    }
    expect(await member.exited).toBe(0);
    expect(member.output.stdout).toMatch(/ stopped$/m);
  });

  it('refuses bad arguments with a usage message and a non-zero exit, writing nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['frob'], /unknown command 'frob'[\s\S]*Usage: eventsourcing-nact/],
      [['run'], /required option '--system <path>' not specified/],
      [['run', '--system', SYSTEM, '--runner', 'threads'], /option '--runner <kind>' argument 'threads' is invalid. Allowed choices are multiprocess, actor/],
      [['run', '--system', SYSTEM, '--pipelines', '3-1'], /--pipelines: the range 3-1 runs backwards/],
      [['status', '--system', 'no/such/module.js'], /--system no\/such\/module.js failed to load: Cannot find module/],
      [['status', '--system', SYSTEM, '--export', 'nothing'], /has no export 'nothing' \(it exports: .*system.*\); name it with --export/],
    ];
    for (const [args, message] of cases) {
      const run = cli(args, env);
      expect(await run.exited).not.toBe(0);
      expect(run.output.stderr).toMatch(message);
    }
  });
});
