export * from './domain';
export * from './persistence';
export * from './application';
export * from './system';
export * from './projection';
export * from './actors';
export * from './observability';
