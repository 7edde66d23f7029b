// Specifications of the bank's account and ledger, with the package's test helpers, run by Node's
// own test runner (node --test): the helpers throw node:assert's AssertionError, which any runner reports.
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { aggregateSpecification, event, processSpecification } from 'eventsourcing-nact/testing';
import { Account, Bank, InsufficientFunds } from './accounts.js';
import { Ledger, Totals } from './ledger.js';

const account = aggregateSpecification(Account, { id: Account.idOf('42') }).given(Account.Opened, { owner: 'alice', number: '42' });

describe('an account', () => {
  it('opens with its owner and number, under the id its number gives', () => {
    const { aggregate } = aggregateSpecification(Account)
      .when(() => Account.open('alice', '42'))
      .thenEvents(event(Account.Opened, { owner: 'alice', number: '42' }, { originatorId: Account.idOf('42') }));
    assert.equal(aggregate.owner, 'alice');
  });

  it('takes deposits and withdrawals', () => {
    const { aggregate } = account
      .given(Account.Deposited, { amount: 100 })
      .when((a) => a.withdraw(30))
      .thenEvents(event(Account.Withdrawn, { amount: 30 }));
    assert.equal(aggregate.balance, 70);
  });

  it('refuses a withdrawal that its balance does not cover', () => {
    account.when((a) => a.withdraw(1)).thenThrows(InsufficientFunds, 'holds 0, less than 1');
  });
});

describe('the ledger', () => {
  const ledger = processSpecification(Ledger, { upstream: Bank });

  it('counts accounts and sums deposits', async () => {
    const opened = Account.open('bob', '7');
    opened.deposit(20);
    const { process } = await ledger.when(opened).thenEvents(Totals.Started, event(Totals.Counted, { what: 'account', amount: 0 }), event(Totals.Counted, { what: 'deposit', amount: 20 }));
    assert.deepEqual(await process.totals(), { accounts: 1, deposited: 20, withdrawn: 0 });
  });
});
