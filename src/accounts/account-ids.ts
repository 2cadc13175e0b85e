import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ResolvedAccount } from '../auth/account-access.js';
import { BoundedMap } from '../common/bounded-map.js';
import { Transactions } from '../database/transactions.js';
import { AccountsRepository } from './accounts.repository.js';

/** How many accounts an instance remembers (a few MB at most); the oldest is forgotten first. */
const CACHE_LIMIT = 100_000;

/**
 * What AccountIds remembers an account's id by: its kind and its owner's id (user ids and org ids may
 * be equal, so the kind is part of it). Only here, where an owner becomes an account: past the edge
 * the account id is the key.
 */
const ownerKey = (owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>): string => `${owner.kind}:${owner.ownerId}`;

/**
 * The engine's account id (`accounts.account_id`) of an account named by its kind and its owner's id
 * (a job's row, a provider's webhook, a metering write's payer, what a request names): resolved here,
 * once, so that every statement of the credits module takes the account id (`$n::bigint`) and none
 * turns an owner into an account again (docs/architecture.md "How the structure is counted").
 *
 * An account id never changes once made and an account is never deleted, so an instance remembers
 * every id it read: the hot routes (a record, the balance, a batch) make no statement for it once an
 * account was seen. What it remembers has committed: an id read on the pool at once; one read in a
 * transaction (which may have just created the account) for the rest of that transaction, and beyond
 * it once it commits when it is the request's (Transactions), never otherwise. An owner without an
 * account is not remembered (it may be created next).
 */
@Injectable()
export class AccountIds {
  private readonly known = new BoundedMap<string, string>(CACHE_LIMIT);
  /** What a transaction read and has not committed yet: good within it (it sees what it created). */
  private readonly pending = new WeakMap<EntityManager, Map<string, string>>();

  constructor(
    @Inject(Transactions) private readonly tx: Transactions,
    private readonly accounts: AccountsRepository,
  ) {}

  /** The account id of `owner`, read in `manager` unless known; null: the owner has no account. */
  async of(manager: EntityManager, owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>): Promise<string | null> {
    return (await this.ofMany(manager, [owner]))[0];
  }

  /**
   * The account ids of `owners`, in their order (null: no account), in at most ONE statement for
   * those not known yet (none when all are).
   */
  async ofMany(
    manager: EntityManager,
    owners: readonly Pick<ResolvedAccount, 'kind' | 'ownerId'>[],
  ): Promise<(string | null)[]> {
    const keys = owners.map(ownerKey);
    const inTransaction = this.pending.get(manager);
    const ids = keys.map((key) => this.known.get(key) ?? inTransaction?.get(key) ?? null);
    const users: string[] = [];
    const orgs: string[] = [];
    owners.forEach((o, i) => {
      if (ids[i] === null) {
        if (o.kind === 'org') orgs.push(o.ownerId);
        else users.push(o.ownerId);
      }
    });
    if (users.length + orgs.length === 0) return ids;
    const rows = await this.accounts.accountIds(manager, users, orgs);
    const read = new Map(
      rows.map((r) => [
        ownerKey(r.orgId ? { kind: 'org', ownerId: r.orgId } : { kind: 'user', ownerId: r.userId ?? '' }),
        r.accountId,
      ]),
    );
    this.rememberOnceCommitted(manager, read);
    return keys.map((key, i) => ids[i] ?? read.get(key) ?? null);
  }

  /**
   * An account id read elsewhere in the accounts module (the resolver's read of what a request
   * names), in `manager`'s transaction (none: on the pool), remembered as a read of its own would be.
   */
  learned(
    manager: EntityManager | undefined,
    owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
    accountId: string,
  ): void {
    const read = new Map([[ownerKey(owner), accountId]]);
    if (manager) this.rememberOnceCommitted(manager, read);
    else this.remember(read);
  }

  /** Whether this instance would resolve `owner` without a statement (tests observe the cache so). */
  remembers(owner: Pick<ResolvedAccount, 'kind' | 'ownerId'>): boolean {
    return this.known.has(ownerKey(owner));
  }

  /**
   * Remembers what was read in `manager`: at once when it is no transaction (what it read had
   * committed); else for the rest of that transaction, and beyond it once it commits when it is the
   * request's transaction, never for another one, whose end this instance does not see (an account
   * it created may yet be rolled back).
   */
  private rememberOnceCommitted(manager: EntityManager, read: Map<string, string>): void {
    if (read.size === 0) return;
    if (!manager.queryRunner?.isTransactionActive) return this.remember(read);
    const pending = this.pending.get(manager) ?? new Map<string, string>();
    for (const [key, id] of read) pending.set(key, id);
    this.pending.set(manager, pending);
    if (this.tx.inTransaction && this.tx.statementManager === manager) this.tx.afterCommit(() => this.remember(read));
  }

  private remember(read: Map<string, string>): void {
    for (const [key, id] of read) this.known.set(key, id);
  }
}
