export * from './domain';
export * from './persistence';
