import { EventSourcingError } from '../../domain/errors';
import { DataError, IntegrityError, OperationalError } from '../errors';

/** The parts of better-sqlite3's SqliteError we rely on (`code` is SQLite's extended result code name). */
interface SqliteErrorLike {
  readonly code: string;
  readonly message: string;
}

/**
 * Errors are recognised by shape, not with `instanceof`: better-sqlite3's native addon is loaded
 * once per process and keeps the SqliteError class of the first module registry (realm) that
 * loaded it, so under jest (one realm per test file) or with two copies of the package, its errors
 * need not be instances of this realm's Error or SqliteError.
 */
function isSqliteError(error: unknown): error is SqliteErrorLike {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'string' && code.startsWith('SQLITE_') && typeof message === 'string';
}

function hasMessage(error: unknown, message: string): boolean {
  return typeof error === 'object' && error !== null && (error as { message?: unknown }).message === message;
}

/** A UNIQUE or PRIMARY KEY constraint refused a row. */
export function isUniqueViolation(error: unknown): boolean {
  return isSqliteError(error) && (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
}

/** What `mapSqliteError` says about where the error happened. */
export interface SqliteErrorContext {
  /** The database file (or ':memory:'). */
  readonly file: string;
  /** What was being done, e.g. "insertEvents on worlds_events". */
  readonly action: string;
  readonly busyTimeoutMs: number;
}

const CLOSED = 'The database connection is not open';
const NO_DIRECTORY = 'Cannot open database because the directory does not exist';

/**
 * Translates an error thrown by better-sqlite3 into the persistence errors. Errors of this library
 * pass through unchanged; errors that are not SQLite's are returned as they are.
 */
export function mapSqliteError(error: unknown, context: SqliteErrorContext): unknown {
  if (error instanceof EventSourcingError) return error;
  const where = `SQLite database '${context.file}'`;
  if (hasMessage(error, CLOSED)) {
    return new OperationalError(`${where} is closed (${context.action})`, { cause: error });
  }
  if (hasMessage(error, NO_DIRECTORY)) {
    return new OperationalError(`cannot open ${where}: its directory does not exist`, { cause: error });
  }
  if (!isSqliteError(error)) return error;
  const detail = `${error.message} [${error.code}]`;
  const code = error.code;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new OperationalError(
      `${where} stayed locked by another connection for longer than busyTimeoutMs=${context.busyTimeoutMs} ` +
        `(${context.action}): ${detail}`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) {
    return new IntegrityError(`${where} refused a write (${context.action}): ${detail}`, { cause: error });
  }
  if (code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH' || code === 'SQLITE_RANGE') {
    return new DataError(`${where} refused the data (${context.action}): ${detail}`, { cause: error });
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new OperationalError(`cannot open ${where} (${context.action}): ${detail}`, { cause: error });
  }
  // SQLITE_IOERR_*, SQLITE_FULL, SQLITE_READONLY_*, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_PERM, SQLITE_ERROR, ...
  return new OperationalError(`${where} failed (${context.action}): ${detail}`, { cause: error });
}
