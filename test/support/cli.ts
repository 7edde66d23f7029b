// The operator's command line as its tests run it: `node --import tsx src/cli/main.ts ...` from the
// project's root, with the environment overlaid by `env`, its output collected.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

export function cli(args: readonly string[], env: Record<string, string>) {
  return runTypeScript(MAIN, args, env);
}

/**
 * A TypeScript script run by node itself with tsx's hooks, so that its pid is the script's (the tsx
 * command would run it in a child of its own, which a kill of the pid would leave running).
 */
export function runTypeScript(script: string, args: readonly string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

/** How a run ended: its exit code and what it printed. */
export async function finished(run: ReturnType<typeof runTypeScript>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const code = await run.exited;
  return { code, ...run.output };
}
