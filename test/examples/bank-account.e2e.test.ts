// The bank-account example (examples/bank-account), as a user runs it: main.ts in memory and twice
// over one SQLite file (the second run carries on), and its specifications under node --test. The
// consumer check (test/consumer/check.sh) runs the same files against the packed package.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript } from '../support/child';

const EXAMPLE = join(__dirname, '..', '..', 'examples', 'bank-account');

interface Run {
  persistence: string;
  balances: { alice: number; bob: number };
  refused: string;
  before: { accounts: number; deposited: number; withdrawn: number };
  after: { accounts: number; deposited: number; withdrawn: number };
}

async function runBank(env: Record<string, string>): Promise<Run> {
  const { code, stdout, stderr } = await runScript(join(EXAMPLE, 'main.ts'), [], env);
  if (code !== 0) throw new Error(`main.ts exited with ${code}: ${stderr}`);
  return JSON.parse(stdout);
}

describe('the bank-account example', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bank-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('moves money, refuses an overdraft, and keeps the ledger’s totals, in memory', async () => {
    const run = await runBank({ PERSISTENCE: 'memory' });
    expect(run.balances).toEqual({ alice: 70, bob: 30 });
    expect(run.refused).toMatch(/holds 30, less than 50$/);
    expect(run.after).toEqual({ accounts: 2, deposited: 130, withdrawn: 30 });
  });

  it('carries on from what an SQLite file holds', async () => {
    const env = { PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(dir, 'bank.sqlite') };
    const first = await runBank(env);
    const second = await runBank(env);
    expect(second.before).toEqual(first.after);
    expect(second.after).toEqual({ accounts: 4, deposited: 260, withdrawn: 60 });
  });

  it('passes its specifications under node --test', async () => {
    const { code, stdout } = await runScript(join(EXAMPLE, 'accounts.test.ts'), [], {}, { tsx: ['--test'] });
    expect(stdout).toMatch(/^# pass 4$/m);
    expect(code).toBe(0);
  });
});
