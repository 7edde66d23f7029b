export * from './answer';
export * from './options';
export * from './machine';
export type { ProcessObserver } from './observer';
