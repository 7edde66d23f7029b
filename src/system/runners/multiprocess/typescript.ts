/** Names of modules written in TypeScript. */
export const TYPESCRIPT = /\.(c|m)?tsx?$/;

/** Where tsx's CommonJS hooks are (undefined when tsx is not installed where the runner or the module can find it). */
export function tsxHooks(modulePath: string): string | undefined {
  for (const from of [process.cwd(), modulePath, __dirname]) {
    try {
      return require.resolve('tsx/cjs', { paths: [from] });
    } catch {
      // try the next place
    }
  }
  return undefined;
}
