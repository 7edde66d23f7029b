export * from './domain';
export * from './persistence';
export * from './application';
export * from './system';
export * from './actors';
export * from './observability';
