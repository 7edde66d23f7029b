export * from './upstream-reader';
export * from './batch';
export * from './conflicts';
export * from './follower';
