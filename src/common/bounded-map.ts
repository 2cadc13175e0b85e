/**
 * A Map of at most `limit` entries, for what a process remembers of what it read (accepted tokens,
 * keys, account ids, totals): a set moves its key to the newest place, and a set past the limit first
 * drops the oldest, so the memory stays bounded however many callers the process sees.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.delete(key);
    if (this.size >= this.limit) super.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}
