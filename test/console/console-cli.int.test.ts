// `eventsourcing-nact console`: starts a runner over a system module, serves its console at the
// address it prints (with a token made at random), and stops on SIGTERM; a bad port is refused.
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cli } from '../support/cli';
import { sqliteStore } from '../support/stores';
import { call } from './support';

const SYSTEM = join('test', 'system', 'multiprocess', 'picky-system.ts');

function startConsoleCommand(args: readonly string[], env: Record<string, string>) {
  const run = cli(['console', '--system', SYSTEM, ...args], env);
  return { child: run.child, lines: createInterface({ input: run.child.stdout }), exited: run.exited, stderr: () => run.output.stderr };
}

describe('the console command', () => {
  const store = sqliteStore();
  beforeEach(() => store.setUp());
  afterEach(() => store.tearDown());

  it('serves the console of a runner it starts, at the address it prints, until SIGTERM', async () => {
    const command = startConsoleCommand(['--runner', 'actor'], store.env());
    const [line] = (await Promise.race([once(command.lines, 'line'), command.exited.then((code) => [`exited ${code}: ${command.stderr()}`])])) as string[];
    const address = / (http:\/\/127\.0\.0\.1:\d+\/)\?token=(\S+)$/.exec(line);
    expect(address).not.toBeNull();
    const [, url, token] = address!;
    expect(line).toContain(`console of ${SYSTEM} (actor runner, pipelines 0): `);
    expect(await call(url, '/status')).toMatchObject({ status: 200, body: { processes: [{ applicationName: 'PickyCounters', pipelineId: 0, lag: 0 }] } });
    const restart = { applicationName: 'PickyCounters', pipelineId: 0 };
    expect((await call(url, '/api/restart', { body: restart })).status).toBe(401);
    expect((await call(url, '/api/restart', { body: restart, token: decodeURIComponent(token) })).status).toBe(409); // not failed
    command.child.kill('SIGTERM');
    expect(await command.exited).toBe(0);
  });

  it('refuses a bad port with a message and a non-zero exit', async () => {
    const command = startConsoleCommand(['--port', 'http'], store.env());
    expect(await command.exited).toBe(1);
    expect(command.stderr()).toContain("eventsourcing-nact: --port must be a port number (0: any free one), got 'http'");
  });
});
