/**
 * The classes that the CommonJS modules loaded so far export: each module's `module.exports` when
 * it is a function, and the functions among its enumerable own properties (read through getters
 * too, as compilers write re-exports and ES-module interop that way). ES modules have no such
 * registry in Node, so their classes are not seen here.
 */
export function loadedExportedFunctions(): Set<Function> {
  const found = new Set<Function>();
  const cache = typeof require === 'function' ? require.cache : undefined;
  if (cache === undefined) return found;
  for (const loaded of Object.values(cache)) {
    const exports: unknown = loaded?.exports;
    if (typeof exports === 'function') found.add(exports);
    if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) continue;
    for (const key of Object.keys(exports)) {
      let value: unknown;
      try {
        value = (exports as Record<string, unknown>)[key];
      } catch {
        continue; // a getter that throws exports nothing we can use
      }
      if (typeof value === 'function') found.add(value);
    }
  }
  return found;
}

/** How many modules are loaded: discovery looks again only once more have been. */
export function loadedModuleCount(): number {
  return typeof require === 'function' && require.cache !== undefined ? Object.keys(require.cache).length : 0;
}
