/**
 * The WHERE clause of a list read, built from the filters a caller gave: each condition takes its
 * values as the next parameters ($1, $2, … in the order added), and `params` holds them for the query.
 */
export class SqlFilter {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];

  /** The placeholder of a new parameter holding `value`. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /** `column = $n` when `value` is given; nothing when it is undefined. */
  equal(column: string, value: unknown): this {
    if (value !== undefined) this.conditions.push(`${column} = ${this.param(value)}`);
    return this;
  }

  /** A newest-first page's keyset: the rows before `after` in (`time`, `id`) order; nothing on the first page. */
  before(time: string, id: string, after: { t: string; id: string } | null): this {
    if (after) {
      this.conditions.push(`(${time}, ${id}) < (${this.param(after.t)}::timestamptz, ${this.param(after.id)}::uuid)`);
    }
    return this;
  }

  /** `WHERE` and the conditions joined by AND, or nothing without a condition. */
  get clause(): string {
    return this.conditions.length ? `WHERE ${this.conditions.join(' AND ')}` : '';
  }
}
