import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ResolvedAccount } from '../auth/account-access.js';
import type { BilledPartyDto } from '../auth/billed-party.dto.js';
import type { AuthUser } from '../auth/roles.js';
import { Transactions } from '../database/transactions.js';
import { AccountIds } from './account-ids.js';
import { billedUser } from './account-ref.js';
import { ErasedAccounts } from './erased-accounts.js';
import { type NamedKey, type Payer, payerOf, type PayerParty, throughNamedKey } from './payer.js';

/**
 * Where the payer reads a key a service principal names: the keys' module, which owns `api_keys` and
 * sits above this one, provides it (ApiKeysModule binds its repository to this token).
 */
export const NAMED_KEYS = Symbol('NAMED_KEYS');
export interface NamedKeys {
  ownerOf(manager: EntityManager, id: string): Promise<NamedKey | null>;
}

/**
 * Who pays for a metering write (src/accounts/payer.ts decides), and the account that pays: the one
 * place every metering route asks, the edge of a metering write. A write naming a key (`apiKeyId`)
 * reads it first, in a statement of its own; any other is decided without a statement, and its
 * account is read once per instance (AccountIds), so the hot routes make no statement for it.
 */
@Injectable()
export class PayerService {
  constructor(
    @Inject(NAMED_KEYS) private readonly keys: NamedKeys,
    private readonly tx: Transactions,
    private readonly erased: ErasedAccounts,
    private readonly ids: AccountIds,
  ) {}

  /**
   * The payer of a metering body: the billed user and the key it names (`named`, the body itself)
   * and the organisation that pays (its `orgId`; absent from a body that opens no charge).
   */
  async payer(caller: AuthUser, named: Pick<BilledPartyDto, 'userId' | 'apiKeyId'>, orgId?: string): Promise<Payer> {
    const party = payerOf(caller, named, orgId);
    // An erased person is billed nothing more (docs/erasure.md): known in memory, no statement.
    this.erased.assertNotErased(billedUser(party.account));
    if (named.apiKeyId === undefined) return this.withAccount(party);
    const through = throughNamedKey(party, orgId, await this.keys.ownerOf(this.tx.statementManager, named.apiKeyId));
    this.erased.assertNotErased(billedUser(through.account));
    return this.withAccount(through);
  }

  /**
   * The accounts that pay for events that each name their payer (a batch's: the billed user, and the
   * org that pays for them), in their order (null: none), in at most one statement for those not
   * known yet.
   */
  accountsOf(payers: readonly Pick<ResolvedAccount, 'kind' | 'ownerId'>[]): Promise<(string | null)[]> {
    return this.ids.ofMany(this.tx.statementManager, payers);
  }

  private async withAccount(party: PayerParty): Promise<Payer> {
    return { ...party, accountId: await this.ids.of(this.tx.statementManager, party.account) };
  }
}
