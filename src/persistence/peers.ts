import { ConfigurationError } from './errors';

/**
 * Whether `error` says that `specifier` itself cannot be found, as opposed to a module that it
 * requires in turn (which is a broken installation, not a missing package, and is rethrown).
 */
export function isModuleNotFound(error: unknown, specifier: string): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${specifier}'`);
}

/**
 * Loads an optional peer dependency (a database driver) the first time a persistence module needs
 * it, so that the package's root loads no driver and a consumer installs only the ones it uses.
 * A driver that is not installed is a ConfigurationError that names the package to install and
 * what needs it (`usedBy`, e.g. "PERSISTENCE=sqlite (SqliteInfrastructureFactory)").
 */
export function requireOptionalPeer<T>(packageName: string, usedBy: string): T {
  try {
    return require(packageName) as T;
  } catch (error) {
    if (!isModuleNotFound(error, packageName)) throw error;
    throw new ConfigurationError(`${usedBy} needs the package '${packageName}', which is not installed: npm install ${packageName}`, {
      cause: error,
    });
  }
}
