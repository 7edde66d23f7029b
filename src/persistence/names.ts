import { ConfigurationError } from './errors';

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_IDENTIFIER_LENGTH = 63; // PostgreSQL truncates longer identifiers silently

/**
 * Table name for one of an application's tables (`<name>_events`, `<name>_snapshots`, ...). Names
 * come from application classes and configuration, so they are checked, lower-cased and later
 * quoted: a name can never carry SQL.
 */
export function tableName(applicationName: string, purpose: string): string {
  const name = `${applicationName}_${purpose}`.toLowerCase();
  if (!TABLE_NAME.test(applicationName) || !TABLE_NAME.test(purpose)) {
    throw new ConfigurationError(
      `application name '${applicationName}' cannot name a table: use letters, digits and underscores, ` +
        `starting with a letter or underscore`,
    );
  }
  if (name.length > MAX_IDENTIFIER_LENGTH) {
    throw new ConfigurationError(
      `table name '${name}' is longer than ${MAX_IDENTIFIER_LENGTH} characters: shorten the application name`,
    );
  }
  return name;
}

/** Double-quotes an identifier that tableName (or an equally strict check) has accepted. */
export function quoteIdentifier(name: string): string {
  if (!TABLE_NAME.test(name)) throw new ConfigurationError(`'${name}' is not a valid SQL identifier`);
  return `"${name}"`;
}

/** The tables an application's recorders may open besides its events and tracking: a closed set. */
export const AGGREGATE_RECORDER_PURPOSES: readonly string[] = ['snapshots'];

/**
 * Checks the purpose of an aggregate recorder (the suffix of its table). Purposes are a closed set,
 * so that no purpose can make an application's table name another application's table
 * (`A` with purpose `b_events` would open `a_b_events`, the events of application `A_b`).
 */
export function checkAggregatePurpose(applicationName: string, purpose: unknown): string {
  if (typeof purpose !== 'string' || !AGGREGATE_RECORDER_PURPOSES.includes(purpose)) {
    throw new ConfigurationError(
      `aggregate recorder purpose '${String(purpose)}' is not allowed for ${applicationName}: ` +
        `the purposes are ${AGGREGATE_RECORDER_PURPOSES.join(', ')}`,
    );
  }
  return purpose;
}

/**
 * The table in each database (SQLite file, PostgreSQL schema) that records which application owns
 * the tables of each name prefix: table names are lower-cased, so applications whose names differ
 * only by case would otherwise share tables.
 */
export const APPLICATIONS_TABLE = 'eventsourcing_applications';

/** The prefix of an application's table names (`<prefix>_events`, ...). */
export function tablePrefix(applicationName: string): string {
  return applicationName.toLowerCase();
}

/** The error for an application whose tables another application (by another name) already owns. */
export function tablesOwnedByAnother(where: string, applicationName: string, owner: string): ConfigurationError {
  const prefix = tablePrefix(applicationName);
  return new ConfigurationError(
    `${where} holds the tables of application '${owner}' (${prefix}_events, ...): application '${applicationName}' ` +
      `would share them, as table names are lower-cased. Give one of them another name (static applicationName), ` +
      `or, if '${applicationName}' is '${owner}' renamed, change its row in ${APPLICATIONS_TABLE}`,
  );
}
