export * from './errors';
export * from './process-event';
export * from './leader';
export * from './follower';
export * from './system';
export * from './runners';
