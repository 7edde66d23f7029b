import { AssertionError } from 'node:assert';
import { aggregateSpecification, event } from '../../src/testing';
import { Account, InsufficientFunds } from '../../examples/bank-account/accounts';

const ID = Account.idOf('42');
const account = aggregateSpecification(Account, { id: ID });
const opened = account.given(Account.Opened, { owner: 'alice', number: '42' });
/** Empties the account: a command that does nothing when it is empty already. */
const empty = (a: Account): void => {
  if (a.balance > 0) a.withdraw(a.balance);
};
const funded = opened.given(Account.Deposited, { amount: 100 });

/** The message of the AssertionError that `check` throws (and fails when it throws none). */
function failure(check: () => unknown): string {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(AssertionError);
    return (error as Error).message;
  }
  throw new Error('expected the check to fail');
}

describe('aggregateSpecification', () => {
  it('passes when the command triggers the expected events, on the aggregate its history makes', () => {
    const { aggregate, events } = funded.when((a) => a.withdraw(30)).thenEvents(event(Account.Withdrawn, { amount: 30 }));
    expect(aggregate.balance).toBe(70);
    expect(events.map((e) => [e.originatorId, e.originatorVersion])).toEqual([[ID, 3]]);
  });

  it('judges a creation by the new aggregate’s events, and takes an event class alone as any event of it', () => {
    account.when(() => Account.open('bob', '42')).thenEvents(event(Account.Opened, { owner: 'bob', number: '42' }, { originatorId: ID, originatorVersion: 1 }));
    account.when(() => Account.open('bob', '7')).thenEvents(Account.Opened);
  });

  it('takes events made elsewhere as the history', () => {
    const made = Account.open('carol', '42');
    made.deposit(5);
    account.given(...made.collectEvents()).when((a) => a.withdraw(5)).thenEvents(event(Account.Withdrawn, { amount: 5 }));
  });

  it('fails with each event’s difference when the events differ', () => {
    expect(failure(() => funded.when((a) => a.withdraw(30)).thenEvents(event(Account.Withdrawn, { amount: 40 })))).toBe(
      [
        'expected the command to trigger 1 event, got 1:',
        '  [0] ✗ expected Account.Withdrawn { amount: 40 }',
        `        got      Account.Withdrawn v3 of ${ID} { amount: 30 }`,
        '        (amount is 30, not 40)',
      ].join('\n'),
    );
  });

  it('fails naming the missing and the unexpected events, and the wrong class', () => {
    expect(failure(() => funded.when((a) => a.withdraw(30)).thenEvents(Account.Withdrawn, Account.Deposited))).toBe(
      [
        'expected the command to trigger 2 events, got 1:',
        `  [0] ✓ Account.Withdrawn v3 of ${ID} { amount: 30 }`,
        '  [1] ✗ expected Account.Deposited (any attributes)',
        '        got nothing',
      ].join('\n'),
    );
    expect(failure(() => funded.when(empty).thenEvents(Account.Deposited))).toBe(
      [
        'expected the command to trigger 1 event, got 1:',
        '  [0] ✗ expected Account.Deposited (any attributes)',
        `        got      Account.Withdrawn v3 of ${ID} { amount: 100 }`,
        '        (is Account.Withdrawn, not Account.Deposited)',
      ].join('\n'),
    );
    expect(failure(() => opened.when((a) => a.deposit(1)).thenEvents())).toBe(
      ['expected the command to trigger 0 events, got 1:', `  [0] ✗ not expected: Account.Deposited v2 of ${ID} { amount: 1 }`].join('\n'),
    );
  });

  it('fails when a common field the expectation names differs', () => {
    expect(failure(() => opened.when((a) => a.deposit(1)).thenEvents(event(Account.Deposited, { amount: 1 }, { originatorVersion: 3 })))).toMatch(
      /\(originatorVersion is 2, not 3\)$/,
    );
  });

  it('checks an error by class and message, and fails when the command throws another or none', () => {
    const error = opened.when((a) => a.withdraw(30)).thenThrows(InsufficientFunds, 'holds 0, less than 30');
    expect(error).toBeInstanceOf(InsufficientFunds);
    opened.when((a) => a.deposit(-1)).thenThrows(RangeError, /must be a positive integer/);
    expect(failure(() => opened.when((a) => a.deposit(-1)).thenThrows(InsufficientFunds))).toBe(
      'expected the command to throw InsufficientFunds, and it threw RangeError: an amount must be a positive integer, got -1: it is not an instance of InsufficientFunds',
    );
    expect(failure(() => funded.when((a) => a.withdraw(30)).thenThrows(InsufficientFunds))).toBe(
      ['expected the command to throw, and it did not: it produced 1 event:', `  [0] Account.Withdrawn v3 of ${ID} { amount: 30 }`].join('\n'),
    );
  });

  it('fails when events were expected and the command threw, with the error as the cause', () => {
    let caught: unknown;
    try {
      opened.when((a) => a.withdraw(30)).thenEvents(Account.Withdrawn);
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).toBe('expected the command to trigger 1 event, and it threw InsufficientFunds: account 42 holds 0, less than 30');
    expect((caught as Error).cause).toBeInstanceOf(InsufficientFunds);
  });

  it('checks that nothing happened', () => {
    expect(opened.when(empty).thenNothingHappened()?.balance).toBe(0);
    expect(failure(() => funded.when(empty).thenNothingHappened())).toMatch(/^expected the command to trigger 0 events, got 1:\n {2}\[0\] ✗ not expected: Account.Withdrawn/);
  });

  it('is immutable: a specification runs its history afresh each time, and given returns a new one', () => {
    const spec = funded.when((a) => a.withdraw(60));
    spec.thenEvents(event(Account.Withdrawn, { amount: 60 }));
    spec.thenEvents(event(Account.Withdrawn, { amount: 60 }));
    expect(funded.replay()?.balance).toBe(100);
    expect(opened.replay()?.balance).toBe(0);
  });

  it('refuses an asynchronous command', () => {
    expect(() => funded.when(async (a) => a.withdraw(1)).thenEvents()).toThrow(/takes a synchronous command/);
  });
});
