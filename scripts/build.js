#!/usr/bin/env node
// Builds the package into dist/: one CommonJS build (tsc -p tsconfig.build.json), and for each
// entry point that package.json's "exports" lists, a thin ES module wrapper beside it (X.mjs,
// with its declarations X.d.mts) that re-exports the CommonJS module's exports by name. There is
// one copy of the code: `import` and `require` reach the same modules, so one topic registry and
// one set of classes (instanceof holds across the two).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

/** The ES module wrappers that package.json's exports name, with their CommonJS modules. */
function entries() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const found = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue; // ./package.json
    const esm = target.import.default;
    const cjs = target.require.default;
    if (esm.replace(/\.mjs$/, '.js') !== cjs) throw new Error(`exports['${subpath}']: ${esm} must sit beside ${cjs}`);
    found.push({ subpath, esm: path.join(root, esm), cjs: path.join(root, cjs) });
  }
  return found;
}

/** The wrapper's source: every export of the CommonJS module, by name (none is left to detection). */
function wrapper(entry) {
  const names = Object.keys(require(entry.cjs)).filter((name) => name !== '__esModule' && name !== 'default');
  const invalid = names.filter((name) => !/^[A-Za-z_$][\w$]*$/.test(name));
  if (invalid.length > 0) throw new Error(`${entry.cjs} exports names an ES module cannot: ${invalid.join(', ')}`);
  const from = `./${path.basename(entry.cjs)}`;
  return [
    `// The ES module entry of eventsourcing-nact${entry.subpath === '.' ? '' : `/${entry.subpath.slice(2)}`}: the CommonJS build's exports,`,
    '// re-exported by name (one copy of the code for import and require). Made by scripts/build.js.',
    `import cjs from '${from}';`,
    '',
    `export const {\n${names.map((name) => `  ${name},`).join('\n')}\n} = cjs;`,
    '',
  ].join('\n');
}

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const entry of entries()) {
  if (!fs.existsSync(entry.cjs)) throw new Error(`exports['${entry.subpath}'] names ${entry.cjs}, which the build did not make`);
  fs.writeFileSync(entry.esm, wrapper(entry));
  fs.writeFileSync(entry.esm.replace(/\.mjs$/, '.d.mts'), `export * from './${path.basename(entry.cjs)}';\n`);
}
console.log(`built dist/: ${entries().map((entry) => entry.subpath).join(', ')}`);
