import { Inject, Injectable } from '@nestjs/common';

import { Coalescer } from '../database/coalescer.js';
import { statementRolledBack } from '../database/statement-errors.js';
import { Transactions } from '../database/transactions.js';
import { ApiKeysRepository, type KeyAuthentication } from './api-keys.repository.js';

/**
 * Keys per statement, and statements in flight. A gateway that meters every user presents one
 * service key on every request: under load, its lookups queue behind the statement in flight and go
 * out together in the next, one row read for all of them.
 */
const MAX_BATCH = 256;
const IN_FLIGHT = 2;

/**
 * The authentication lookups of presented keys (docs/api-keys.md "Every request looks its key up"),
 * outside a request's transaction: the lookups that arrive together go out as ONE statement
 * (src/database/coalescer.ts), whichever keys they present. A lookup never joins a statement already
 * sent: it waits for the next, which starts after its request arrived, so it sees every revocation,
 * expiry and membership change committed before the request, exactly as a statement of its own would.
 * Only the statement's fixed cost (its round trip, on both sides of the socket) is shared.
 */
@Injectable()
export class CoalescedKeyLookups {
  private readonly coalescer = new Coalescer<Buffer, KeyAuthentication | null>((_lane, hashes) => this.send(hashes), {
    maxBatch: MAX_BATCH,
    maxInFlight: IN_FLIGHT,
    // A statement the server refused is tried again one lookup at a time; a lost connection fails them all.
    retryAlone: statementRolledBack,
  });

  constructor(
    @Inject(Transactions) private readonly tx: Transactions,
    private readonly keys: ApiKeysRepository,
  ) {}

  /** The lookups waiting for their statement's answer (tests watch lookups queue behind a lock). */
  get pending(): number {
    return this.coalescer.pending;
  }

  /** The key whose hash is `keyHash` (null: none), read in a statement that starts after this call. */
  find(keyHash: Buffer): Promise<KeyAuthentication | null> {
    // Inside a request's transaction (POST /api/api-keys/verify under an Idempotency-Key) the lookup
    // joins it: its own statement on the transaction's connection.
    if (this.tx.inTransaction) return this.send([keyHash]).then(([row]) => row);
    return this.coalescer.submit('authentication', keyHash);
  }

  private async send(hashes: Buffer[]): Promise<(KeyAuthentication | null)[]> {
    const distinct = [...new Map(hashes.map((h) => [h.toString('hex'), h])).values()];
    const rows = await this.keys.findForAuthentication(this.tx.statementManager, distinct);
    const byHash = new Map<string, KeyAuthentication>(rows.map((row) => [row.keyHash.toString('hex'), row]));
    return hashes.map((h) => byHash.get(h.toString('hex')) ?? null);
  }
}
