import { resolve } from 'node:path';
import { ConfigurationError } from '../domain';
import { System, TYPESCRIPT, tsxHooks } from '../system';

/** The System a command line names: `--system` (a module's path, from the working directory) and `--export`. */
export function loadSystem(modulePath: string, exportName: string): { system: System; path: string } {
  const path = resolve(modulePath);
  if (TYPESCRIPT.test(path) && require.extensions['.ts'] === undefined) {
    const hooks = tsxHooks(path);
    if (hooks === undefined) throw new ConfigurationError(`--system ${modulePath} is TypeScript and tsx is not installed: npm install --save-dev tsx, or give the compiled JavaScript`);
    require(hooks);
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = require(path) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigurationError(`--system ${modulePath} failed to load: ${(error as Error).message.split('\n')[0]}`);
  }
  const system = loaded[exportName];
  if (!(system instanceof System)) {
    throw new ConfigurationError(
      system === undefined
        ? `--system ${modulePath} has no export '${exportName}' (it exports: ${Object.keys(loaded).join(', ') || 'nothing'}); name it with --export`
        : `the export '${exportName}' of ${modulePath} is not a System of this library`,
    );
  }
  return { system, path };
}

/** Pipeline ids from `0-7`, `0,2,5` or `3`. */
export function parsePipelines(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.split(',')) {
    const range = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (range === null) throw new ConfigurationError(`--pipelines must be ids or ranges like 0-7 or 0,2,5, got '${text}'`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (to < from) throw new ConfigurationError(`--pipelines: the range ${part.trim()} runs backwards`);
    for (let id = from; id <= to; id++) ids.push(id);
  }
  if (new Set(ids).size !== ids.length) throw new ConfigurationError(`--pipelines names a pipeline twice: '${text}'`);
  return ids;
}
