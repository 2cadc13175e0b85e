import { randomUUID } from 'node:crypto';

/**
 * A new id for a row of a table that only grows (usage records): a version 7 UUID (RFC 9562), whose
 * first 48 bits are the Unix time in milliseconds and the rest random, so it lands at the right-hand
 * end of every B-tree that holds it (the table's primary key, the ledger's index by record, the audit
 * log's index by target) instead of on a random leaf. The database's default for these tables has the
 * same layout (uuid_v7(), src/database/sql/uuid_v7.sql); docs/money.md, "Ids in time order".
 *
 * Made from Node's randomUUID() (a version 4 UUID: 122 random bits, the RFC variant) with its first 12
 * hex digits replaced by the time and its version digit by 7: about 0.3 µs, where the `uuid` package's
 * v7() takes about 3 µs (a fresh random buffer each call), on the route every chat message calls.
 */
export function timeOrderedId(now: number = Date.now()): string {
  const random = randomUUID();
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
