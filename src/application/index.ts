export * from './errors';
export * from './environment';
export * from './persistence';
export * from './event-store';
export * from './aggregate-cache';
export * from './repository';
export * from './notification-log';
export * from './application';
