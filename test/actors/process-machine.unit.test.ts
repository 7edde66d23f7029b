// The ProcessMaster's state machine is a pure function: (state, message) -> (state, effects).
import { PolicyError, RunnerError } from '../../src';
import { initialMasterState, transition, type MachineContext, type MasterEffect, type MasterState } from '../../src/system/supervision';
import type { MasterMessage } from '../../src/actors/protocols';
import { resolveSupervision } from '../../src/system/supervision';

const supervision = resolveSupervision({ minBackoffMs: 10, maxBackoffMs: 80, randomFactor: 0.5, maxRestarts: 3, withinMs: 10_000 });
const replyTo = {} as never;

function run(messages: Array<[MasterMessage, number?]>, from: MasterState = initialMasterState) {
  let state = from;
  const steps: Array<{ state: MasterState; effects: readonly MasterEffect[] }> = [];
  for (const [message, now = 1000] of messages) {
    const context: MachineContext = { applicationName: 'Counters', pipelineId: 0, supervision, now, random: () => 0 };
    const next = transition(state, message, context);
    steps.push(next);
    state = next.state;
  }
  return { state, steps, last: steps[steps.length - 1] };
}

/** A prompt, then a crash at each of `positions` (with `error`, or a policy's), each after the backoff of the one before. */
const crashesAt = (positions: readonly number[], error?: Error): Array<[MasterMessage, number?]> => [
  [{ type: 'prompt' }],
  ...positions.flatMap((position, index): Array<[MasterMessage, number?]> => [
    ...(index === 0 ? [] : [[{ type: 'backoff-elapsed', runId: index }] as [MasterMessage]]),
    crash(index + 1, position, error),
  ]),
];

/** The backoffs the steps scheduled, in order. */
const delaysOf = (steps: ReadonlyArray<{ effects: readonly MasterEffect[] }>) =>
  steps.flatMap((step) => step.effects.flatMap((effect) => (effect.type === 'schedule-backoff' ? [effect.delayMs] : [])));

const policyError = (notificationId: number) => new PolicyError('Counters', 'Worlds', notificationId, 0, new Error('no'));
const crash = (runId: number, position: number, error: Error = policyError(position + 1)): [MasterMessage, number] => [
  { type: 'slave-crashed', runId, error, positions: { Worlds: position } },
  1000 + runId,
];

describe('the ProcessMaster state machine', () => {
  it('starts a run on a prompt, spawning a slave, and coalesces the prompts that come while it runs', () => {
    const { steps, state } = run([[{ type: 'prompt' }], [{ type: 'prompt' }], [{ type: 'prompt' }]]);
    expect(steps[0].effects).toEqual([{ type: 'cancel-backoff' }, { type: 'spawn-slave', generation: 1 }, { type: 'run', generation: 1, runId: 1 }]);
    expect(steps[1].effects).toEqual([]);
    expect(steps[2].effects).toEqual([]);
    expect(state).toMatchObject({ phase: 'running', pending: true, runId: 1, slave: 1 });
    const after = run([[{ type: 'run-finished', runId: 1 }]], state);
    expect(after.last.effects).toEqual([{ type: 'cancel-backoff' }, { type: 'run', generation: 1, runId: 2 }]); // the same slave
    expect(run([[{ type: 'run-finished', runId: 2 }]], after.state).state).toMatchObject({ phase: 'idle', pending: false });
  });

  it('backs off exponentially while failures make no progress, then stays failed', () => {
    const { steps, state } = run(crashesAt([4, 4, 4, 4]));
    expect(delaysOf(steps)).toEqual([10, 20, 40]);
    expect(steps[2].effects).toContainEqual({ type: 'spawn-slave', generation: 2 }); // a crashed slave is replaced
    expect(state).toMatchObject({ phase: 'failed', restarts: 3, lastError: { notificationId: 5, upstreamName: 'Worlds' } });
    expect(steps[7].effects).toEqual([{ type: 'failed', error: expect.any(PolicyError) }]);
  });

  it('counts a failure after the position moved on as progress, also when it is not the policy’s', () => {
    const connection = new Error('connection terminated');
    const { steps, state } = run([...crashesAt([4, 4]), [{ type: 'backoff-elapsed', runId: 2 }], crash(3, 3000, connection), [{ type: 'backoff-elapsed', runId: 3 }], crash(4, 3000, connection)]); // thousands processed, then the connection dropped
    expect(delaysOf(steps)).toEqual([10, 20, 10, 20]);
    expect(state).toMatchObject({ phase: 'backing-off', restarts: 4 });
    expect(state.lastError).toMatchObject({ message: 'Error: connection terminated', pipelineId: 0 });
  });

  it('stops after the run in flight, answering every stop request', () => {
    const running = run([[{ type: 'prompt' }]]).state;
    const stopping = run([[{ type: 'stop', replyTo }], [{ type: 'prompt' }]], running);
    expect(stopping.steps[0].effects).toEqual([{ type: 'cancel-backoff' }, { type: 'abort-runs' }]);
    expect(stopping.state).toMatchObject({ phase: 'stopping' });
    expect(stopping.steps[1].effects).toEqual([]); // no run starts while stopping
    const stopped = run([[{ type: 'run-finished', runId: 1 }]], stopping.state);
    expect(stopped.state).toMatchObject({ phase: 'stopped', slave: undefined });
    expect(stopped.last.effects).toEqual([
      { type: 'cancel-backoff' },
      { type: 'stop-slave', generation: 1 },
      { type: 'reply', replyTo, answer: { ok: true, value: undefined } },
    ]);
    expect(run([[{ type: 'stop', replyTo }]]).state.phase).toBe('stopped'); // idle: at once
  });

  it('skips the notification a failed process failed on: the slave skips, then runs, and the failure is cleared', () => {
    const failed = run(crashesAt([4, 4, 4, 4])).state;
    const skipped = run([[{ type: 'skip', reason: 'bad data', replyTo }]], failed);
    expect(skipped.last.effects).toEqual([
      { type: 'cancel-backoff' },
      { type: 'spawn-slave', generation: 5 },
      { type: 'skip', generation: 5, upstreamName: 'Worlds', notificationId: 5, reason: 'bad data', replyTo },
      { type: 'run', generation: 5, runId: 5 },
    ]);
    expect(skipped.state).toMatchObject({ phase: 'running', failuresWithoutProgress: 0, recentRestarts: [] });
    expect(skipped.state.lastError).toBeUndefined();
  });

  it('refuses restart and skip unless failed', () => {
    const { last } = run([[{ type: 'restart', replyTo }]]);
    expect(last.effects).toEqual([{ type: 'reply', replyTo, answer: { ok: false, error: expect.any(RunnerError) } }]);
    const answer = (last.effects[0] as { answer: { error: Error } }).answer;
    expect(answer.error.message).toBe('cannot restart Counters (pipeline 0): it is idle, not failed');
  });
});
