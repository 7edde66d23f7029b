// The README's TypeScript snippets, type-checked and run, so that the README cannot drift from the
// code. A snippet is marked by an HTML comment on the line before its fence:
//
//   <!-- readme-snippet: name=applications after=world -->   runs after the snippets it names (in one module)
//   <!-- readme-snippet: not-run (why) -->                    a fragment, never run; keep these few
//
// Each runnable snippet becomes one ES module (the snippets it comes after, then itself; their
// imports merged) in a folder of the checkout, where the package's name refers to the package itself
// (Node's and TypeScript's self-reference, through package.json's exports): so the snippets import
// the build, as a user's ES modules do, once `npm run build` has made it from the sources (the test
// builds first). All are type-checked with tsc, then each runs with tsx in a directory of its own.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScript } from '../support/child';

const ROOT = join(__dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const BUILD = join(ROOT, 'scripts', 'build.js');
// In the checkout (so that its packages resolve), outside what its own tsconfig includes; git ignores it.
const WORK = join(ROOT, '.readme-snippets');
/** Fragments are fine where a whole program would bury the point; more than this many is drift. */
const MAX_NOT_RUN = 2;

interface Snippet {
  /** README line of the opening fence. */
  readonly line: number;
  readonly name?: string;
  readonly after: readonly string[];
  readonly notRun?: string;
  readonly code: string;
}

/** The ```ts blocks of a markdown text, with their markers (a block indented in a list keeps its indentation out). */
export function readSnippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^(\s*)```ts\s*$/.exec(lines[index]);
    if (fence === null) continue;
    const indent = fence[1];
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length && lines[end].trim() !== '```'; end++) body.push(lines[end].startsWith(indent) ? lines[end].slice(indent.length) : lines[end]);
    if (end === lines.length) throw new Error(`README.md line ${index + 1}: a ts block that never ends`);
    const marker = /^<!-- readme-snippet: (.*) -->$/.exec(lines[index - 1]?.trim() ?? '');
    const line = index + 1;
    if (marker === null) throw new Error(`README.md line ${line}: a ts block without a <!-- readme-snippet: ... --> comment on the line before it`);
    const notRun = /^not-run \((.+)\)$/.exec(marker[1]);
    if (notRun !== null) {
      snippets.push({ line, after: [], notRun: notRun[1], code: body.join('\n') });
    } else {
      const fields = Object.fromEntries(marker[1].split(/\s+/).map((field) => field.split('=') as [string, string]));
      const unknown = Object.keys(fields).filter((key) => key !== 'name' && key !== 'after');
      if (fields.name === undefined || unknown.length > 0) throw new Error(`README.md line ${line}: a marker needs name=... (and may have after=a,b), got '${marker[1]}'`);
      snippets.push({ line, name: fields.name, after: fields.after?.split(',') ?? [], code: body.join('\n') });
    }
    index = end;
  }
  return snippets;
}

/** The snippet and those it comes after, transitively, earliest first, each once. */
function chain(snippet: Snippet, byName: ReadonlyMap<string, Snippet>): Snippet[] {
  const ordered: Snippet[] = [];
  const visit = (current: Snippet, path: readonly string[]): void => {
    for (const name of current.after) {
      const before = byName.get(name);
      if (before === undefined) throw new Error(`README.md line ${current.line}: after=${name} names no snippet`);
      if (path.includes(name)) throw new Error(`README.md line ${current.line}: after=${name} makes a cycle`);
      visit(before, [...path, name]);
    }
    if (!ordered.includes(current)) ordered.push(current);
  };
  visit(snippet, [snippet.name!]);
  return ordered;
}

/** One module of the snippets' code, with their `import { ... } from '...'` lines merged by module. */
function moduleOf(snippets: readonly Snippet[]): string {
  const imports = new Map<string, Set<string>>();
  const body: string[] = [];
  for (const snippet of snippets) {
    body.push(`// README.md line ${snippet.line} (${snippet.name})`);
    for (const line of snippet.code.split('\n')) {
      const match = /^import \{([^}]*)\} from '([^']+)';$/.exec(line.trim());
      if (match === null) {
        if (/^import /.test(line.trim())) throw new Error(`README.md line ${snippet.line}: only \`import { ... } from '...';\` lines can be merged: ${line}`);
        body.push(line);
        continue;
      }
      const names = imports.get(match[2]) ?? new Set<string>();
      for (const name of match[1].split(',')) if (name.trim() !== '') names.add(name.trim());
      imports.set(match[2], names);
    }
  }
  const head = [...imports].map(([from, names]) => `import { ${[...names].join(', ')} } from '${from}';`);
  return [...head, '', ...body, ''].join('\n');
}

/** Runs a Node script to its end; resolves with its exit code and all it printed. */
function runNode(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

const snippets = readSnippets(readFileSync(join(ROOT, 'README.md'), 'utf8'));
const runnable = snippets.filter((snippet) => snippet.notRun === undefined);
const byName = new Map(runnable.map((snippet) => [snippet.name!, snippet]));

describe('the README’s snippets', () => {
  beforeAll(async () => {
    const build = await runNode([BUILD]);
    if (build.code !== 0) throw new Error(`npm run build failed:\n${build.output}`);
    rmSync(WORK, { recursive: true, force: true });
    for (const snippet of runnable) {
      mkdirSync(join(WORK, snippet.name!), { recursive: true });
      writeFileSync(join(WORK, `${snippet.name}.mts`), moduleOf(chain(snippet, byName)));
    }
    writeFileSync(
      join(WORK, 'tsconfig.json'),
      JSON.stringify({
        // A user's settings: strict, no skipLibCheck, and the package's name is the package (its build).
        compilerOptions: { strict: true, target: 'ES2022', lib: ['ES2022'], module: 'esnext', moduleResolution: 'bundler', types: ['node'], noEmit: true },
        files: runnable.map((snippet) => `${snippet.name}.mts`),
      }),
    );
  }, 120_000);

  it('are all marked, names are unique, and few are left unrun', () => {
    expect(byName.size).toBe(runnable.length);
    const notRun = snippets.filter((snippet) => snippet.notRun !== undefined);
    expect(notRun.length).toBeLessThanOrEqual(MAX_NOT_RUN);
    expect(runnable.length).toBeGreaterThanOrEqual(8);
  });

  it('type-check, strictly, against the package', async () => {
    const { code, output } = await runNode([TSC, '-p', join(WORK, 'tsconfig.json')]);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 120_000);

  it.each(runnable.map((snippet) => [snippet.name!, snippet.line] as const))('run: %s (README.md line %d)', async (name) => {
    const { code, stdout, stderr } = await runScript(join(WORK, `${name}.mts`), [], {}, { cwd: join(WORK, name), tsx: ['--tsconfig', join(WORK, 'tsconfig.json')] });
    if (code !== 0) throw new Error(`the snippet ${name} exited with ${code}:\n${stderr}\n${stdout}`);
  }, 60_000);
});
