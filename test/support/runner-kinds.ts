// Every runner, made over one system, for the contract suites that run on each of them.
import {
  ActorRunner,
  MultiprocessRunner,
  MultiThreadedRunner,
  Runner,
  SingleThreadedRunner,
  SteppingMultiThreadedRunner,
  SteppingSingleThreadedRunner,
  System,
} from '../../src';
import { untilIdle } from '../../src/testing';

export interface RunnerKind {
  name: string;
  /** Runs only over stores that other processes can open (not memory). */
  sharedStoresOnly?: boolean;
  make(env: Record<string, string>): Runner;
  /** Lets asynchronous runners catch up before an assertion (no sleeps). */
  settle(runner: Runner): Promise<void>;
}

/** Every runner over `system`; the runners with workers load it from `modulePath` (its export `exportName`). */
export function runnerKinds(system: System, modulePath: string, exportName = 'system'): RunnerKind[] {
  const systemModule = { path: modulePath, exportName };
  return [
    { name: 'SingleThreadedRunner', make: (env) => new SingleThreadedRunner(system, { env }), settle: async () => {} },
    { name: 'MultiThreadedRunner', make: (env) => new MultiThreadedRunner(system, { env }), settle: (runner) => untilIdle(runner) },
    {
      name: 'SteppingSingleThreadedRunner',
      make: (env) => new SteppingSingleThreadedRunner(system, { env, tickIntervalMs: 2 }),
      settle: (runner) => untilIdle(runner),
    },
    {
      name: 'SteppingMultiThreadedRunner',
      make: (env) => new SteppingMultiThreadedRunner(system, { env, tickIntervalMs: 2 }),
      settle: (runner) => untilIdle(runner),
    },
    { name: 'ActorRunner', make: (env) => new ActorRunner(system, { env }), settle: (runner) => untilIdle(runner) },
    ...(['process', 'thread'] as const).map(
      (isolation): RunnerKind => ({
        name: `MultiprocessRunner (isolation: ${isolation})`,
        sharedStoresOnly: true,
        make: (env) => new MultiprocessRunner(system, { env, isolation, systemModule }),
        settle: (runner) => untilIdle(runner),
      }),
    ),
    {
      name: "ActorRunner with slaves: 'process'",
      sharedStoresOnly: true,
      make: (env) => new ActorRunner(system, { env, slaves: 'process', systemModule }),
      settle: (runner) => untilIdle(runner),
    },
  ];
}
