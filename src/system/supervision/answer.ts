/** The answer to a request: a value, or the error that explains why there is none. */
export type Reply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };

export const ok = <T>(value: T): Reply<T> => ({ ok: true, value });
export const failure = (error: unknown): Reply<never> => ({ ok: false, error: asError(error) });

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
