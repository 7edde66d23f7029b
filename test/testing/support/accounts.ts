// A bank account, for the tests of the test helpers: its commands decide, and one of them refuses.
import { Aggregate, AggregateCreated, AggregateEvent, EventSourcingError } from '../../../src';

export class InsufficientFunds extends EventSourcingError {
  override name = 'InsufficientFunds';
}

export class Account extends Aggregate {
  owner = '';
  balance = 0;

  static open(owner: string, id?: string): Account {
    return Account._create(Account.Opened, { id, owner });
  }

  deposit(amount: number): void {
    if (amount <= 0) throw new RangeError(`a deposit must be positive, got ${amount}`);
    this.triggerEvent(Account.Deposited, { amount });
  }

  withdraw(amount: number): void {
    if (amount > this.balance) throw new InsufficientFunds(`balance ${this.balance} < ${amount}`);
    this.triggerEvent(Account.Withdrawn, { amount });
  }

  /** Does nothing when the balance is zero already. */
  close(): void {
    if (this.balance !== 0) this.withdraw(this.balance);
  }

  static Opened = class Opened extends AggregateCreated<Account> {
    declare readonly owner: string;

    apply(account: Account): void {
      account.owner = this.owner;
    }
  };

  static Deposited = class Deposited extends AggregateEvent<Account> {
    declare readonly amount: number;

    apply(account: Account): void {
      account.balance += this.amount;
    }
  };

  static Withdrawn = class Withdrawn extends AggregateEvent<Account> {
    declare readonly amount: number;

    apply(account: Account): void {
      account.balance -= this.amount;
    }
  };
}
