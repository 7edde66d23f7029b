import { spawn } from 'node:child_process';
import { join } from 'node:path';

const TSX = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

export interface ScriptOptions {
  /** The working directory of the process (default: this one's). */
  readonly cwd?: string;
  /** Options of tsx itself, before the script (`--test`, `--tsconfig <file>`). */
  readonly tsx?: readonly string[];
}

/** Runs a TypeScript script in a fresh process (with tsx) and resolves with its exit code and output. */
export function runScript(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  options: ScriptOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [...(options.tsx ?? []), script, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
