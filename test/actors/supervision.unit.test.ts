import { ActorRunner, backoffDelay, DEFAULT_SUPERVISION, RunnerError, System } from '../../src';
import { resolveSupervision, restartsWithin } from '../../src/system/supervision';
import { Counters, WorldsApplication } from '../seed-example';

describe('supervision options', () => {
  it('has sensible defaults', () => {
    expect(DEFAULT_SUPERVISION).toEqual({ minBackoffMs: 100, maxBackoffMs: 10_000, randomFactor: 0.2, maxRestarts: 10, withinMs: 60_000 });
    expect(resolveSupervision()).toEqual(DEFAULT_SUPERVISION);
    expect(resolveSupervision({ maxRestarts: 3 })).toEqual({ ...DEFAULT_SUPERVISION, maxRestarts: 3 });
    // A minimum above the default maximum raises the maximum, unless one is given.
    expect(resolveSupervision({ minBackoffMs: 60_000 }).maxBackoffMs).toBe(60_000);
  });

  it('has defaults under which the restart limit can be reached', () => {
    // Even with the most jitter, maxRestarts restarts in a row without progress fit in the window.
    const backoffs = Array.from({ length: DEFAULT_SUPERVISION.maxRestarts }, (_, i) => backoffDelay(DEFAULT_SUPERVISION, i + 1, () => 1));
    expect(backoffs.reduce((a, b) => a + b, 0)).toBeLessThan(DEFAULT_SUPERVISION.withinMs);
  });

  it('refuses values that make no sense, naming them', () => {
    expect(() => resolveSupervision({ minBackoffMs: -1 })).toThrow('supervision.minBackoffMs must be a number >= 0, got -1');
    expect(() => resolveSupervision({ minBackoffMs: 10, maxBackoffMs: 5 })).toThrow('supervision.maxBackoffMs must be a number >= minBackoffMs, got 5');
    expect(() => resolveSupervision({ randomFactor: Number.NaN })).toThrow('supervision.randomFactor must be a number >= 0, got NaN');
    expect(() => resolveSupervision({ maxRestarts: 1.5 })).toThrow('supervision.maxRestarts must be an integer >= 0, got 1.5');
    expect(() => resolveSupervision({ withinMs: 0 })).toThrow('supervision.withinMs must be a number > 0, got 0');
    expect(() => resolveSupervision({ maxRetries: 3 } as never)).toThrow(/supervision has no option maxRetries/);
  });

  it('doubles the backoff from the minimum up to the maximum, then adds jitter', () => {
    const options = resolveSupervision({ minBackoffMs: 10, maxBackoffMs: 100, randomFactor: 0.5 });
    expect([1, 2, 3, 4, 5, 6, 100].map((attempt) => backoffDelay(options, attempt, () => 0))).toEqual([10, 20, 40, 80, 100, 100, 100]);
    expect(backoffDelay(options, 1, () => 1)).toBe(15);
    expect(backoffDelay(options, 5, () => 0.5)).toBe(125);
    expect(backoffDelay(options, 3)).toBeGreaterThanOrEqual(40);
    expect(backoffDelay(options, 3)).toBeLessThanOrEqual(60);
  });

  it('counts restarts within the window', () => {
    const options = resolveSupervision({ withinMs: 1000 });
    expect(restartsWithin(options, [0, 500, 1500, 2000], 2100)).toEqual([1500, 2000]);
  });
});

describe('ActorRunner options', () => {
  const system = new System({ pipes: [[WorldsApplication, Counters]] });

  it('refuses bad pipeline ids, poll intervals and supervision', () => {
    expect(() => new ActorRunner(system, { pipelineIds: [] })).toThrow('pipelineIds must be a non-empty array of integers >= 0');
    expect(() => new ActorRunner(system, { pipelineIds: [0, -1] })).toThrow('pipeline ids must be integers >= 0, got -1');
    expect(() => new ActorRunner(system, { pipelineIds: [1, 1] })).toThrow('pipelineIds has duplicates: 1, 1');
    expect(() => new ActorRunner(system, { pollIntervalMs: 0 })).toThrow('pollIntervalMs must be a number of milliseconds > 0, got 0');
    expect(() => new ActorRunner(system, { supervision: { maxRestarts: -1 } })).toThrow(RunnerError);
    expect(() => new ActorRunner({} as System)).toThrow('a runner needs a System');
  });

  it('has defaults', () => {
    const runner = new ActorRunner(system);
    expect(runner.pipelineIds).toEqual([0]);
    expect(runner.pollIntervalMs).toBe(1000);
    expect(runner.supervision).toEqual(DEFAULT_SUPERVISION);
  });
});
