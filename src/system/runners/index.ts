export * from './status';
export * from './edge';
export * from './runner';
export * from './single-threaded';
export * from './multi-threaded';
export * from './stepping';
export * from './multiprocess';
