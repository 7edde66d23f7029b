export * from './answer';
export * from './options';
export * from './machine';
