import { spawn } from 'node:child_process';
import { join } from 'node:path';

const TSX = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

/** Runs a TypeScript script in a fresh process (with tsx) and resolves with its exit code and output. */
export function runScript(script: string, args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
