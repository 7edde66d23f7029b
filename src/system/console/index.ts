export * from './target';
export * from './options';
export * from './server';
export type { ConsoleSnapshot, ConsoleProcess } from './snapshot';
export type { Topology, TopologyNode, TopologyEdge } from './topology';
