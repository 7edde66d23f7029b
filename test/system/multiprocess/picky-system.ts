// A system module for the MultiprocessRunner's tests: the seed's worlds, followed by a counter
// whose policy refuses the thing called 'poison' (for failures inside a worker).
import { ProcessApplication, System, type DomainEvent, type ProcessEvent } from '../../../src';
import { Counters, World, WorldsApplication } from '../../seed-example';

export class PickyCounters extends ProcessApplication {
  async policy(domainEvent: DomainEvent, processEvent: ProcessEvent): Promise<void> {
    if (domainEvent instanceof World.SomethingHappened && domainEvent.what === 'poison') {
      throw new Error(`PickyCounters refuses ${domainEvent.what}`);
    }
    return Counters.prototype.policy.call(this, domainEvent, processEvent);
  }

  getCount(what: string): Promise<number> {
    return Counters.prototype.getCount.call(this, what);
  }
}

export const system = new System({ pipes: [[WorldsApplication, PickyCounters]] });
