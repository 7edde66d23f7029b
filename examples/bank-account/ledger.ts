// The ledger: a process application that follows the bank and keeps its totals.
import { v5 as uuid5 } from 'uuid';
import { Aggregate, AggregateCreated, AggregateEvent, AggregateNotFound, DomainEvent, ProcessApplication, ProcessEvent, register, System } from 'eventsourcing-nact';
import { Account, Bank } from './accounts.js';

/** The bank's totals: one aggregate, whose id is fixed. */
export class Totals extends Aggregate {
  static readonly ID = uuid5('totals', '0f5b8a8e-7c55-4d0e-8a3e-5f1f1b2d9c44');

  accounts = 0;
  deposited = 0;
  withdrawn = 0;

  static start(): Totals {
    return Totals._create(Totals.Started, { id: Totals.ID });
  }

  count(what: 'account' | 'deposit' | 'withdrawal', amount = 0): void {
    this.triggerEvent(Totals.Counted, { what, amount });
  }

  static Started = class Started extends AggregateCreated<Totals> {};

  static Counted = class Counted extends AggregateEvent<Totals> {
    declare readonly what: 'account' | 'deposit' | 'withdrawal';
    declare readonly amount: number;

    apply(totals: Totals): void {
      if (this.what === 'account') totals.accounts += 1;
      else if (this.what === 'deposit') totals.deposited += this.amount;
      else totals.withdrawn += this.amount;
    }
  };
}

register(Totals);

export class Ledger extends ProcessApplication {
  static commands = ['totals'] as const;

  async policy(domainEvent: DomainEvent, processEvent: ProcessEvent): Promise<void> {
    let totals: Totals;
    try {
      totals = await this.repository.get<Totals>(Totals.ID);
    } catch (error) {
      if (!(error instanceof AggregateNotFound)) throw error;
      totals = Totals.start();
    }
    if (domainEvent instanceof Account.Opened) totals.count('account');
    else if (domainEvent instanceof Account.Deposited) totals.count('deposit', domainEvent.amount);
    else if (domainEvent instanceof Account.Withdrawn) totals.count('withdrawal', domainEvent.amount);
    else return;
    processEvent.save(totals);
  }

  async totals(): Promise<{ accounts: number; deposited: number; withdrawn: number }> {
    try {
      const { accounts, deposited, withdrawn } = await this.repository.get<Totals>(Totals.ID);
      return { accounts, deposited, withdrawn };
    } catch (error) {
      if (error instanceof AggregateNotFound) return { accounts: 0, deposited: 0, withdrawn: 0 };
      throw error;
    }
  }
}

export const system = new System({ pipes: [[Bank, Ledger]] });
