/** Numbered parameters for a statement built piece by piece: each piece adds its values as it is written. */
export class Parameters {
  readonly values: unknown[] = [];

  /** The placeholder of `value`, cast to `type` so that the statement plans the same for every value. */
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}
