import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AuthUser, Role } from '../auth/roles.js';
import { BoundedMap } from '../common/bounded-map.js';
import { AccountErasedError, NotFoundError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ChannelListener } from '../database/connections/channel-listener.js';
import { Transactions } from '../database/transactions.js';
import { AccountIds } from './account-ids.js';
import { ACCOUNT_CHANNEL, AccountsRepository } from './accounts.repository.js';
import { ErasedAccounts } from './erased-accounts.js';

const CACHE_LIMIT = 10_000;

/**
 * What another module does when a user's account is created, inside the creating transaction (the
 * promotions module grants signup credits): both commit, or neither.
 */
export type UserCreatedHook = (manager: EntityManager, created: { userId: string; accountId: string }) => Promise<void>;

/** What of a token the account keeps: role, email, username. */
const fingerprintOf = (user: Pick<AuthUser, 'email' | 'username' | 'role'>) =>
  JSON.stringify([user.role, user.email, user.username]);

/**
 * The accounts table as other modules use it. Accounts are created on a subject's first request and
 * refreshed when its token says something new. What this instance last wrote is remembered so that
 * ordinary requests make no account statement; every account write announces itself (NOTIFY), and an
 * instance forgets what another one changed. While its listener is not connected, an instance
 * remembers nothing and checks on every request: no instance ever skips writing a changed role.
 */
@Injectable()
export class AccountsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Accounts');
  private readonly known = new BoundedMap<string, string>(CACHE_LIMIT);
  /** The syncs in flight: their own NOTIFY (or another's of the same token) changes nothing known. */
  private readonly writing = new Map<string, string>();
  /** Bumped whenever everything is forgotten: a sync that raced with it does not remember its result. */
  private generation = 0;
  /**
   * Accounts another writer changed while this instance was writing them: that sync does not remember
   * its result (which write came last is unknown). Per account, so the steady NOTIFYs of other
   * accounts' writes never keep an instance from remembering the one it just wrote.
   */
  private readonly raced = new Set<string>();
  private readonly listener: ChannelListener;

  constructor(
    private readonly users: AccountsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(ErasedAccounts) private readonly erased: ErasedAccounts,
    @Inject(AccountIds) private readonly ids: AccountIds,
  ) {
    this.listener = new ChannelListener({
      url: config.database.url ?? null,
      channel: ACCOUNT_CHANNEL,
      applicationName: 'accounting-accounts',
      logger: this.logger,
      onNotification: (payload) => this.changed(payload),
      onListening: () => {
        this.forgetAll();
        void this.readErased();
      },
      onLost: () => this.forgetAll(),
    });
  }

  /** Waits for the first LISTEN, so that the cache works from the first request. */
  async onApplicationBootstrap(): Promise<void> {
    await this.listener.start();
    await this.readErased();
  }

  /** Every erased id into memory (at start and whenever listening again: an erasure's NOTIFY may have been missed). */
  private async readErased(): Promise<void> {
    try {
      for (const id of await this.users.erasedIds()) this.erased.add(id);
    } catch (error) {
      this.logger.warn({ msg: 'could not read the erased accounts', err: String(error) });
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.listener.stop();
  }

  /** Whether this instance would skip the account statement for this token (tests observe the cache so). */
  remembers(user: Pick<AuthUser, 'userId' | 'email' | 'username' | 'role'>): boolean {
    return this.knows(user.userId, fingerprintOf(user));
  }

  /** Trusted only while listening: a write this instance did not hear of may have changed the row. */
  private knows(userId: string, fingerprint: string): boolean {
    return this.listener.listening && this.known.get(userId) === fingerprint;
  }

  /**
   * The token's account, created or refreshed. `onCreated` (the caller's, from a module above:
   * promotions' signup grant, through the ACCOUNT_SYNC it provides) runs in the transaction that
   * creates the account, when this call creates it. Accounts imports no feature module.
   */
  async syncFromToken(
    user: Pick<AuthUser, 'userId' | 'email' | 'username' | 'role'>,
    onCreated?: UserCreatedHook,
  ): Promise<void> {
    // An erased person's token authenticates no one (docs/erasure.md).
    if (this.erased.has(user.userId)) throw new AccountErasedError(401);
    const fingerprint = fingerprintOf(user);
    if (this.knows(user.userId, fingerprint)) return;
    const generation = this.generation;
    this.raced.delete(user.userId);
    this.writing.set(user.userId, fingerprint);
    try {
      await this.upsert(user, fingerprint, onCreated);
    } finally {
      if (this.writing.get(user.userId) === fingerprint) this.writing.delete(user.userId);
    }
    const raced = this.raced.delete(user.userId);
    if (!this.listener.listening || generation !== this.generation || raced) return;
    this.known.set(user.userId, fingerprint);
  }

  /**
   * The token's upsert; with a created-hook, in one transaction with it. Instances seeing a new
   * user's first requests at once: one insert wins, the others wait for it and then find the row.
   */
  private async upsert(
    user: Pick<AuthUser, 'userId' | 'email' | 'username' | 'role'>,
    fingerprint: string,
    hook: UserCreatedHook | undefined,
  ) {
    const erased = hook
      ? await this.tx.run(async (manager) => {
          const done = await this.users.upsertFromToken(user, fingerprint, manager);
          if (done.created) await this.created(manager, user.userId, hook);
          return done.erased;
        })
      : (await this.users.upsertFromToken(user, fingerprint)).erased;
    if (erased) {
      this.erased.add(user.userId);
      throw new AccountErasedError(401);
    }
  }

  /** Another write of an account (this instance's own included): forget it unless it wrote what we know. */
  private changed(payload: string | undefined): void {
    let note: { u?: unknown; f?: unknown; e?: unknown } = {};
    try {
      note = JSON.parse(payload ?? '') as typeof note;
    } catch {
      // Unreadable: forget everything rather than guess.
    }
    if (typeof note.u !== 'string') return this.forgetAll();
    if (note.e === true) this.erased.add(note.u);
    if (this.known.get(note.u) === note.f || this.writing.get(note.u) === note.f) return;
    this.known.delete(note.u);
    if (this.writing.has(note.u)) this.raced.add(note.u);
  }

  private forgetAll(): void {
    this.known.clear();
    this.raced.clear();
    this.generation++;
  }

  /**
   * Creates the account if it does not exist yet (used when credits are granted ahead of a login);
   * `onCreated`, the caller's, runs in `manager` when this call creates it. Answers the account's id.
   */
  async createIfMissing(
    manager: EntityManager,
    account: { userId: string; email: string | null; username: string | null; role?: Role },
    onCreated?: UserCreatedHook,
  ): Promise<string> {
    const created = await this.users.insertIfMissing(manager, { ...account, role: account.role ?? 'user' });
    const accountId = await this.accountOf(manager, account.userId);
    if (created && onCreated) await onCreated(manager, { userId: account.userId, accountId });
    return accountId;
  }

  /** Runs a created-hook with the account this transaction has just made. */
  private async created(manager: EntityManager, userId: string, hook: UserCreatedHook): Promise<void> {
    await hook(manager, { userId, accountId: await this.accountOf(manager, userId) });
  }

  /**
   * The account of a user this transaction may have just made (the user's trigger opens it; read in
   * `manager`): the account module hands the id to what runs on it, which resolves no owner.
   */
  private async accountOf(manager: EntityManager, userId: string): Promise<string> {
    const accountId = await this.ids.of(manager, { kind: 'user', ownerId: userId });
    if (accountId === null) throw new NotFoundError('User');
    return accountId;
  }

  /** The person an erasure is about, locked, with their account's id; null: no such user. */
  lockForErasure(manager: EntityManager, userId: string) {
    return this.users.lockForErasure(manager, userId);
  }

  /** Erases the account's email and username (after every other module took the person out); answers when. */
  async markErased(manager: EntityManager, userId: string): Promise<Date> {
    const erasedAt = await this.users.markErased(manager, userId);
    this.tx.afterCommit(() => this.erased.add(userId));
    return erasedAt;
  }

  exists(manager: EntityManager, userId: string): Promise<boolean> {
    return this.users.exists(manager, userId);
  }

  /**
   * When the account `accountId` was opened (its user's or org's creation), read in `manager`, for a
   * rule that depends on its age (a promotion for new accounts); null: no such account.
   */
  opened(manager: EntityManager, accountId: string): Promise<Date | null> {
    return this.users.opened(manager, accountId);
  }
}
