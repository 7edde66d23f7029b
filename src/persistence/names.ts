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
