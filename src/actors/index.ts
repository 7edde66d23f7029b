export * from './actor-runner';
export * from './errors';
export type * from './protocols';
export { DEFAULT_SUPERVISION, backoffDelay, type SupervisionOptions } from './supervision';
export type { CommandApplicationClass, CommandArgs, CommandDeclaration, CommandDeclarations, CommandName, CommandResult } from './commands';
export type { ActorRef, ParentRef, Reply, ReplyTo } from './refs';
