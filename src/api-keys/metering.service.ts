import { Injectable } from '@nestjs/common';

import { type BilledParty, billedParty, type NamedParty, payingOrg } from '../auth/metering.js';
import type { AuthUser } from '../auth/roles.js';
import { DomainError } from '../common/errors/domain-error.js';
import { Transactions } from '../database/transactions.js';
import { ApiKeysRepository } from './api-keys.repository.js';

/**
 * Whom a metering write bills (docs/trust-model.md). A service principal may attribute usage to
 * one of the billed user's keys (`apiKeyId`), which then counts against that key's budget as if the
 * key had called: the key must be the user's and still usable, else 400 and nothing is written.
 */
@Injectable()
export class MeteringService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly tx: Transactions,
  ) {}

  async billed(caller: AuthUser, named: NamedParty): Promise<BilledParty> {
    const party = billedParty(caller, named);
    if (named.apiKeyId === undefined) return party;
    // Another user's key and an unknown one answer alike: the answer tells nobody which ids exist.
    const key = await this.keys.ownerOf(this.tx.statementManager, named.apiKeyId);
    if (!key || key.userId !== party.userId) {
      throw new DomainError('API_KEY_MISMATCH', `apiKeyId does not name an API key of user ${party.userId}`);
    }
    if (!key.active) throw new DomainError('API_KEY_MISMATCH', 'apiKeyId names a revoked or expired API key');
    // A key of a membership charges its organisation (another org named → NOT_A_MEMBER).
    return {
      ...party,
      orgId: payingOrg(named.orgId, key.orgId, party.userId),
      keyModels: [...party.keyModels, key.models],
    };
  }
}
