export * from './errors';
export * from './records';
export * from './recorders';
export * from './views';
export * from './validation';
export * from './names';
export * from './transcoder';
export * from './compressor';
export * from './cipher';
export * from './mapper';
export * from './memory';
// The SQLite and PostgreSQL stores stay exported here, and so from the package's root (which has
// always exported them): importing them costs no driver, since each loads its driver (an optional
// peer dependency) when a factory is made, and their declarations name none of the drivers' types.
// The package's ./sqlite and ./postgres entries are these same modules, for code that would rather
// say in its imports which store it uses.
export * from './sqlite';
export * from './postgres';
