import { Application, ProcessApplication, System, SystemDefinitionError } from '../../src';
import { Counters, system, WorldsApplication } from '../seed-example';

class A extends ProcessApplication {}
class B extends ProcessApplication {}
class C extends ProcessApplication {}
class Plain extends Application {}

describe('System', () => {
  it('knows who follows whom in the seed system', () => {
    expect(system.applicationNames).toEqual(['WorldsApplication', 'Counters']);
    expect(system.leaders).toEqual(['WorldsApplication']);
    expect(system.followers).toEqual(['Counters']);
    expect(system.followsOf('Counters')).toEqual(['WorldsApplication']);
    expect(system.leadsOf('WorldsApplication')).toEqual(['Counters']);
    expect(system.classOf('Counters')).toBe(Counters);
    expect(system.has(WorldsApplication)).toBe(true);
  });

  it('reads [[A, B, C]] as B following A and C following B', () => {
    const abc = new System({ pipes: [[A, B, C]] });
    expect(abc.followsOf('B')).toEqual(['A']);
    expect(abc.followsOf('C')).toEqual(['B']);
    expect(abc.leaders).toEqual(['A', 'B']);
    expect(abc.followers).toEqual(['B', 'C']);
  });

  it('allows an application to follow itself, cycles, shared applications and several upstreams', () => {
    expect(new System({ pipes: [[A, A]] }).followsOf('A')).toEqual(['A']);
    const cycle = new System({ pipes: [[A, B, A]] });
    expect(cycle.followsOf('A')).toEqual(['B']);
    expect(cycle.followsOf('B')).toEqual(['A']);
    const shared = new System({ pipes: [[A, B, A], [A, C, A]] });
    expect(shared.followsOf('A')).toEqual(['B', 'C']);
    expect(shared.leadsOf('A')).toEqual(['B', 'C']);
    const twoUpstreams = new System({ pipes: [[Plain, C], [A, C]] });
    expect(twoUpstreams.followsOf('C')).toEqual(['Plain', 'A']);
  });

  it('refuses what is not an application class, naming the place', () => {
    expect(() => new System({ pipes: [[A, (class NotAnApp {}) as never]] })).toThrow(
      'pipe 0, position 1: class NotAnApp is not an Application class',
    );
    expect(() => new System({ pipes: [[A], ['B' as never]] })).toThrow('pipe 1, position 0: string B is not an Application class');
    expect(() => new System({ pipes: [] })).toThrow(SystemDefinitionError);
    expect(() => new System({ pipes: [[]] })).toThrow(/pipe 0 must be a non-empty array/);
    expect(() => new System(undefined as never)).toThrow(SystemDefinitionError);
  });

  it('refuses a plain Application where it would have to follow', () => {
    expect(() => new System({ pipes: [[A, Plain]] })).toThrow(
      'Plain follows A in pipe 0, but it is a plain Application: make it a ProcessApplication',
    );
  });

  it('refuses two different classes with one name', () => {
    const First = class Twin extends ProcessApplication {};
    const Second = class Twin extends ProcessApplication {};
    expect(() => new System({ pipes: [[First, Second]] })).toThrow(/two different application classes are named Twin/);
  });
});
