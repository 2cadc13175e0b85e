import { Inject, Injectable } from '@nestjs/common';

import type { AuthUser } from '../auth/roles.js';
import { BoundedMap } from '../common/bounded-map.js';
import { CLOCK, type Clock } from '../common/clock.js';
import type { Condition } from '../database/statement-parts.js';
import { hashApiKey } from './api-key-secret.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';

/** How long a key read stays in memory (its models list and owner are checked again by every use). */
const REMEMBERED_MS = 60_000;
const MEMORY_LIMIT = 10_000;

/** A caller read from a key earlier, and the condition its money statement must meet to act on it. */
export interface RecentCaller {
  caller: AuthUser;
  /** True while the key still authenticates as read (ApiKeysRepository.stillAuthenticates). */
  stillValid: Condition;
}

/**
 * Keys read by an earlier request, for a route whose only statement before its answer is one that
 * moves money (the gateway's hold): the key's lookup leaves the request's path, and that statement
 * runs the lookup's checks on the key as it is then (`stillValid`), so a revocation, an expiry, a
 * membership ended or a models list changed before it refuses the request as the lookup would have.
 * A caller whose check fails is forgotten and read again (`forget`, then `authenticate`).
 */
@Injectable()
export class RecentKeys {
  private readonly known = new BoundedMap<string, { caller: AuthUser; at: number }>(MEMORY_LIMIT);

  constructor(
    private readonly keys: ApiKeysService,
    private readonly repository: ApiKeysRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The caller of `key`: remembered, else looked up now (ApiKeysService.authenticate's refusals). */
  async authenticate(key: string): Promise<RecentCaller> {
    const hash = hashApiKey(key).toString('hex');
    const now = this.clock.now();
    const seen = this.known.get(hash);
    let caller: AuthUser;
    if (seen !== undefined && now - seen.at < REMEMBERED_MS) {
      caller = seen.caller;
      this.keys.used(caller.apiKeyId!);
    } else {
      this.known.delete(hash);
      caller = await this.keys.authenticate(key);
      this.known.set(hash, { caller, at: now });
    }
    return { caller, stillValid: this.repository.stillAuthenticates(caller.apiKeyId!, caller.models ?? null) };
  }

  forget(key: string): void {
    this.known.delete(hashApiKey(key).toString('hex'));
  }
}
