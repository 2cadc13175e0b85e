import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AuthUser } from '../auth/roles.js';
import { Transactions } from '../database/transactions.js';
import { ErasedAccounts } from './erased-accounts.js';
import { type NamedKey, type NamedParty, type Payer, payerOf, throughNamedKey } from './payer.js';

/**
 * Where the payer reads a key a service principal names: the keys' module, which owns `api_keys` and
 * sits above this one, provides it (ApiKeysModule binds its repository to this token).
 */
export const NAMED_KEYS = Symbol('NAMED_KEYS');
export interface NamedKeys {
  ownerOf(manager: EntityManager, id: string): Promise<NamedKey | null>;
}

/**
 * Who pays for a metering write (src/accounts/payer.ts decides): the one place every metering route
 * asks. A write naming a key (`apiKeyId`) reads it first, in a statement of its own; any other is
 * decided without a statement.
 */
@Injectable()
export class PayerService {
  constructor(
    @Inject(NAMED_KEYS) private readonly keys: NamedKeys,
    private readonly tx: Transactions,
    private readonly erased: ErasedAccounts,
  ) {}

  async payer(caller: AuthUser, named: NamedParty): Promise<Payer> {
    const party = payerOf(caller, named);
    // An erased person is billed nothing more (docs/erasure.md): known in memory, no statement.
    this.erased.assertNotErased(party.userId);
    if (named.apiKeyId === undefined) return party;
    const through = throughNamedKey(party, named, await this.keys.ownerOf(this.tx.statementManager, named.apiKeyId));
    this.erased.assertNotErased(through.userId);
    return through;
  }
}
