export type { ClusterOptions } from './options';
export type { ClusterStatus, ClusterSlotStatus } from './cluster-member';
export type { MemberRow } from './lock-connection';
export type { Slot } from './keys';
export { readClusterStatus } from './cluster-member';
export { resolveClusterOptions } from './options';
