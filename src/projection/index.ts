export * from './errors';
export * from './view';
export * from './view-store';
export * from './projection';
export * from './rebuild';
export { ViewSwitchedError } from './sql-view-store';
