export * from './errors';
export * from './process-event';
export * from './leader';
export * from './follower';
export * from './skipped-notification';
export * from './system';
export * from './runners';
export * from './supervision';
