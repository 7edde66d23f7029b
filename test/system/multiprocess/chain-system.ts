// A system module for the MultiprocessRunner's tests: the seed's worlds, counted by Counters, whose
// own log is followed by Tallies (a process application that follows a process application), so
// that a worker's recordings must prompt another worker.
import { AggregateNotFound, ProcessApplication, System, type DomainEvent, type ProcessEvent } from '../../../src';
import { Counter, Counters, WorldsApplication } from '../../seed-example';

export class Tallies extends ProcessApplication {
  async policy(domainEvent: DomainEvent, processEvent: ProcessEvent): Promise<void> {
    if (!(domainEvent instanceof Counter.Incremented)) return;
    const id = Counter.createId('tally');
    let tally: Counter;
    try {
      tally = await this.repository.get<Counter>(id);
    } catch (error) {
      if (!(error instanceof AggregateNotFound)) throw error;
      tally = Counter.create('tally');
    }
    tally.increment();
    processEvent.save(tally);
  }

  getTally(): Promise<number> {
    return Counters.prototype.getCount.call(this, 'tally');
  }
}

export const system = new System({ pipes: [[WorldsApplication, Counters, Tallies]] });
