import { EventSourcingError } from '../../domain/errors';
import { ConfigurationError, DataError, OperationalError, PersistenceError, RecordConflictError, versionConflict } from '../errors';

/** The fields node-postgres puts on errors (from the server's ErrorResponse, or Node's socket errors). */
interface PgErrorFields {
  code?: string;
  detail?: string;
  constraint?: string;
  table?: string;
  message?: string;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  '57P01', // admin_shutdown (pg_terminate_backend, server stopping)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
  '3D000', // invalid_catalog_name: the database does not exist
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
]);

const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  'connect ECONNREFUSED',
];

function fieldsOf(error: unknown): PgErrorFields {
  return error !== null && typeof error === 'object' ? (error as PgErrorFields) : {};
}

/** Whether the error means the connection is unusable (the client must not go back to the pool). */
export function isConnectionError(error: unknown): boolean {
  const { code, message } = fieldsOf(error);
  if (code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.some((text) => message.includes(text));
}

/** Parses `Key (originator_id, originator_version)=(x, 3) already exists.` */
function conflictingKey(detail: string | undefined): { originatorId: string; originatorVersion: number } | undefined {
  const match = /^Key \(originator_id, originator_version\)=\((.*), (\d+)\) already exists\.$/s.exec(detail ?? '');
  return match ? { originatorId: match[1], originatorVersion: Number(match[2]) } : undefined;
}

export interface ErrorContext {
  /** What was being done, for messages: "insertEvents on public.worlds_events". */
  readonly operation: string;
  /** Whether a COMMIT was sent, so that a lost connection leaves the outcome unknown. */
  readonly committing?: boolean;
}

/**
 * Turns what node-postgres raised into the library's errors: version conflicts become
 * RecordConflictError, lost or refused connections OperationalError, bad values DataError.
 * Errors that already are PersistenceErrors pass through.
 */
export function toPersistenceError(error: unknown, context: ErrorContext): PersistenceError {
  if (error instanceof EventSourcingError) return error;
  const fields = fieldsOf(error);
  const reason = fields.message ?? String(error);
  const cause = { cause: error };
  if (fields.code === '23505') {
    const key = conflictingKey(fields.detail);
    if (key !== undefined) return versionConflict(context.operation, key, undefined, cause);
    return new RecordConflictError(`${context.operation}: ${reason}${fields.detail ? ` (${fields.detail})` : ''}`, cause);
  }
  if (reason.includes('timeout exceeded when trying to connect')) {
    return new OperationalError(
      `${context.operation}: no PostgreSQL connection within connectTimeoutMs (server unreachable, or every ` +
        `connection of the pool busy): ${reason}`,
      cause,
    );
  }
  if (isConnectionError(error)) {
    const outcome = context.committing ? ' while committing: the write may or may not have been recorded' : '';
    return new OperationalError(`${context.operation}: PostgreSQL connection failed${outcome}: ${reason}`, cause);
  }
  if (fields.code === '40P01' || fields.code === '40001' || fields.code === '55P03' || fields.code === '57014') {
    // deadlock, serialization failure, lock not available, query cancelled: nothing was kept; retry.
    return new OperationalError(`${context.operation}: ${reason}`, cause);
  }
  if (fields.code === '42501') {
    return new ConfigurationError(
      `${context.operation}: the PostgreSQL user lacks a privilege (grant it, or choose another schema): ${reason}`,
      cause,
    );
  }
  if (fields.code !== undefined && fields.code.startsWith('22')) {
    return new DataError(`${context.operation}: PostgreSQL refused a value: ${reason}`, cause);
  }
  return new PersistenceError(`${context.operation}: ${reason}${fields.code ? ` (SQLSTATE ${fields.code})` : ''}`, cause);
}
