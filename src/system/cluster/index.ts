export type { ClusterOptions } from './options';
export type { ClusterStatus, ClusterSlotStatus } from './cluster-member';
export type { MemberRow } from './lock-connection';
export type { Slot } from './keys';
export { ClusterMember, readClusterStatus, withSlotPositions, type SlotWork } from './cluster-member';
export { resolveClusterOptions, type ResolvedClusterOptions } from './options';
