export * from './actor-runner';
export * from './errors';
export type * from './protocols';
export type {
  CommandApplicationClass,
  CommandArgs,
  CommandDeclaration,
  CommandDeclarations,
  CommandName,
  CommandResult,
  SchemaDoesNotFitMethod,
  StandardSchemaV1,
} from './commands';
export type { ActorRef, ParentRef, Reply, ReplyTo } from './refs';
