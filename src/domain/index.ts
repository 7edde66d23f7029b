export * from './errors';
export * from './fields';
export * from './topics';
export * from './upcasting';
export * from './events';
export * from './aggregate';
export * from './snapshot';
export * from './clone';
