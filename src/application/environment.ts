import { ConfigurationError } from '../domain';

export type EnvType = Readonly<Record<string, string | undefined>>;

/**
 * An application's settings: the process environment overlaid by what the code passes in. Any key
 * may be prefixed with the application's name in capitals to apply to that application alone
 * (`COUNTERS_SQLITE_DBNAME` before `SQLITE_DBNAME`). Errors name the key that supplied the value.
 */
export class Environment {
  readonly prefix: string;

  constructor(
    readonly applicationName: string,
    readonly values: EnvType,
  ) {
    this.prefix = `${applicationName.toUpperCase()}_`;
  }

  /** The key that supplies `key` for this application, or undefined when neither form is set. */
  source(key: string): string | undefined {
    const prefixed = this.prefix + key;
    if (isSet(this.values[prefixed])) return prefixed;
    if (isSet(this.values[key])) return key;
    return undefined;
  }

  get(key: string): string | undefined {
    const source = this.source(key);
    return source === undefined ? undefined : this.values[source]!.trim();
  }

  require(key: string, why: string): string {
    const value = this.get(key);
    if (value === undefined) {
      throw new ConfigurationError(`${key} (or ${this.prefix}${key}) must be set ${why}`);
    }
    return value;
  }

  /** One of `allowed` (case-insensitive), else `fallback` when unset. */
  choice<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.get(key);
    if (value === undefined) return fallback;
    const match = allowed.find((option) => option.toLowerCase() === value.toLowerCase());
    if (match === undefined) {
      throw new ConfigurationError(`${this.source(key)}='${value}' is not valid: expected one of ${allowed.join(', ')}`);
    }
    return match;
  }

  integer(key: string, min: number): number | undefined {
    const value = this.get(key);
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(number) || number < min) {
      throw new ConfigurationError(`${this.source(key)}='${value}' is not valid: expected an integer >= ${min}`);
    }
    return number;
  }

  boolean(key: string): boolean | undefined {
    const value = this.get(key);
    if (value === undefined) return undefined;
    if (/^(y|yes|true|t|on|1)$/i.test(value)) return true;
    if (/^(n|no|false|f|off|0)$/i.test(value)) return false;
    throw new ConfigurationError(`${this.source(key)}='${value}' is not valid: expected true or false`);
  }
}

function isSet(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}
