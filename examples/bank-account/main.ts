// Runs the bank: opens two accounts, moves money between them, and prints the balances and the
// ledger's totals as JSON. Settings come from the environment (PERSISTENCE=sqlite
// SQLITE_DBNAME=bank.sqlite, ...); run it again over the same database and the totals carry on.
import { randomUUID } from 'node:crypto';
import { SingleThreadedRunner } from 'eventsourcing-nact';
import { Bank, InsufficientFunds } from './accounts.js';
import { Ledger, system } from './ledger.js';

async function main(): Promise<void> {
  const runner = new SingleThreadedRunner(system);
  await runner.start();
  try {
    const bank = runner.get(Bank);
    const ledger = runner.get(Ledger);
    const before = await ledger.totals();
    const run = randomUUID().slice(0, 8); // account numbers of this run
    const alice = await bank.openAccount('alice', `${run}-1`);
    const bob = await bank.openAccount('bob', `${run}-2`);
    await bank.deposit(alice, 100);
    await bank.transfer(alice, bob, 30);
    let refused = '';
    try {
      await bank.withdraw(bob, 50);
    } catch (error) {
      if (!(error instanceof InsufficientFunds)) throw error;
      refused = error.message;
    }
    // The single-threaded runner: the ledger has processed every command when it returns.
    const after = await ledger.totals();
    const balances = { alice: await bank.balanceOf(alice), bob: await bank.balanceOf(bob) };
    console.log(JSON.stringify({ persistence: process.env.PERSISTENCE ?? 'memory', balances, refused, before, after }));
  } finally {
    await runner.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
