// A system module that fails to load, as a module with a bug at its top level would.
throw new Error('this system module refuses to load');
