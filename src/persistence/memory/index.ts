export * from './recorders';
export * from './factory';
