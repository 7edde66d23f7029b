// Preloaded (node --require) to make this process see pg and better-sqlite3 as not installed, as a
// consumer that installed neither does: resolving either fails as Node fails for a missing package.
const Module = require('node:module');

const HIDDEN = new Set(['pg', 'better-sqlite3']);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (HIDDEN.has(request)) {
    const error = new Error(`Cannot find module '${request}'`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
