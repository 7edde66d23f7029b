// The bank: accounts as aggregates, and the application whose commands change them.
import { v5 as uuid5 } from 'uuid';
import { Aggregate, AggregateCreated, AggregateEvent, Application, EventSourcingError, register } from 'eventsourcing-nact';

/** A withdrawal or transfer that the balance does not cover. */
export class InsufficientFunds extends EventSourcingError {
  override name = 'InsufficientFunds';
}

/** The namespace of account ids (any fixed UUID): the same account number always makes the same id. */
const ACCOUNTS = '6f1c1e55-3a04-4c35-9b8e-2f7d0f3b6a10';

export class Account extends Aggregate {
  owner = '';
  number = '';
  balance = 0;

  /** The id of the account with this number: deterministic, so a number can be looked up (and opened once). */
  static idOf(number: string): string {
    return uuid5(number, ACCOUNTS);
  }

  /** Opens an account: its created event carries the owner and the number, which its apply sets. */
  static open(owner: string, number: string): Account {
    return Account._create(Account.Opened, { id: Account.idOf(number), owner, number });
  }

  deposit(amount: number): void {
    if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`an amount must be a positive integer, got ${amount}`);
    this.triggerEvent(Account.Deposited, { amount });
  }

  withdraw(amount: number): void {
    if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`an amount must be a positive integer, got ${amount}`);
    if (amount > this.balance) throw new InsufficientFunds(`account ${this.number} holds ${this.balance}, less than ${amount}`);
    this.triggerEvent(Account.Withdrawn, { amount });
  }

  static Opened = class Opened extends AggregateCreated<Account> {
    declare readonly owner: string;
    declare readonly number: string;

    apply(account: Account): void {
      account.owner = this.owner;
      account.number = this.number;
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

// Under ES modules the classes must be registered for a process that reads before it writes.
register(Account);

export class Bank extends Application {
  /** The commands an ActorRunner may call by message. */
  static commands = ['openAccount', 'deposit', 'withdraw', 'transfer', 'balanceOf'] as const;

  async openAccount(owner: string, number: string): Promise<string> {
    const account = Account.open(owner, number);
    await this.save(account);
    return account.id;
  }

  async deposit(accountId: string, amount: number): Promise<void> {
    const account = await this.repository.get<Account>(accountId);
    account.deposit(amount);
    await this.save(account);
  }

  async withdraw(accountId: string, amount: number): Promise<void> {
    const account = await this.repository.get<Account>(accountId);
    account.withdraw(amount);
    await this.save(account);
  }

  /** Moves money between two accounts: both accounts' events are recorded in one atomic write. */
  async transfer(fromId: string, toId: string, amount: number): Promise<void> {
    const from = await this.repository.get<Account>(fromId);
    const to = await this.repository.get<Account>(toId);
    from.withdraw(amount);
    to.deposit(amount);
    await this.save(from, to);
  }

  async balanceOf(accountId: string): Promise<number> {
    return (await this.repository.get<Account>(accountId)).balance;
  }
}
