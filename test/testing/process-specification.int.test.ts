import { AssertionError } from 'node:assert';
import { DomainEvent, ProcessApplication, ProcessEvent } from '../../src';
import { event, processSpecification } from '../../src/testing';
import { Counter, Counters, World, WorldsApplication } from '../seed-example';

const counters = processSpecification(Counters, { upstream: WorldsApplication });

function worldThat(...whats: string[]): World {
  const world = World.create();
  for (const what of whats) world.makeItSo(what);
  return world;
}

class Refusing extends ProcessApplication {
  async policy(domainEvent: DomainEvent, _processEvent: ProcessEvent): Promise<void> {
    if (domainEvent instanceof World.SomethingHappened && domainEvent.what === 'trucks') throw new RangeError('no trucks here');
  }
}

describe('processSpecification', () => {
  it('passes when the policy saves the expected events for the upstream events', async () => {
    const { process, events } = await counters
      .when(worldThat('dinosaurs'))
      .thenEvents(event(Counter.Created, {}, { originatorId: Counter.createId('dinosaurs') }), event(Counter.Incremented, {}, { originatorVersion: 2 }));
    expect(await process.getCount('dinosaurs')).toBe(1);
    expect(events.every((e) => e.originatorId === Counter.createId('dinosaurs'))).toBe(true);
  });

  it('applies the given upstream events first: the policy meets the state they left', async () => {
    await counters
      .given(worldThat('dinosaurs', 'trucks'))
      .when(worldThat('dinosaurs'))
      .thenEvents(event(Counter.Incremented, {}, { originatorId: Counter.createId('dinosaurs'), originatorVersion: 3 }));
  });

  it('ignores the events its policy ignores: nothing happened', async () => {
    const process = await counters.when(World.create()).thenNothingHappened();
    expect(await process.getCount('dinosaurs')).toBe(0);
  });

  it('fails with a readable difference when the policy saves other events', async () => {
    const failure = await counters
      .when(worldThat('dinosaurs'))
      .thenEvents(Counter.Incremented)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AssertionError);
    const id = Counter.createId('dinosaurs');
    expect((failure as Error).message).toBe(
      [
        'expected the policy to save 1 event, got 2:',
        '  [0] ✗ expected Counter.Incremented (any attributes)',
        `        got      Counter.Created v1 of ${id} {}`,
        '        (is Counter.Created, not Counter.Incremented)',
        `  [1] ✗ not expected: Counter.Incremented v2 of ${id} {}`,
      ].join('\n'),
    );
  });

  it('checks the error the policy throws, and names it when events were expected', async () => {
    const refusing = processSpecification(Refusing, { upstream: 'Worlds' });
    const error = await refusing.when(worldThat('trucks')).thenThrows(RangeError, 'no trucks');
    expect(error.message).toBe('no trucks here');
    await expect(refusing.when(worldThat('trucks')).thenNothingHappened()).rejects.toThrow(
      'expected the policy to save nothing, and it threw RangeError: no trucks here',
    );
    await expect(counters.when(worldThat('dinosaurs')).thenThrows()).rejects.toThrow(/^expected the policy to throw, and it did not: it produced 2 events:/);
  });

  it('reports a policy that fails on a given event as a broken specification', async () => {
    await expect(processSpecification(Refusing).given(worldThat('trucks')).when(World.create()).thenNothingHappened()).rejects.toThrow(
      'expected the policy to process the given events, and it threw RangeError: no trucks here',
    );
  });
});
