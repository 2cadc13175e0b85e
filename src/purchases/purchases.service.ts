import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { accountNamed } from '../accounts/account-ref.js';
import { BillingCurrencies } from '../accounts/billing-currencies.service.js';
import { currencyMismatch, priceFor } from '../accounts/billing-currency.js';
import { type AccountRule, reachable, type ResolvedAccount, seesAll } from '../auth/account-access.js';
import type { BodyNamed, Taken } from '../auth/auth.decorator.js';
import { isServicePrincipal } from '../auth/metering.js';
import type { AuthUser } from '../auth/roles.js';
import type { RowAccountReader } from '../auth/row-accounts.js';
import { Changes } from '../changes/changes.js';
import { AccountErasedError, DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, type Page, toPage } from '../common/http/pagination.js';
import { fromMinor, toMinor } from '../common/money/currencies.js';
import { isUuid } from '../common/validation/ids.js';
import { CreditAccountsService } from '../engine/credit-accounts.service.js';
import { CreditLotsService } from '../engine/credit-lots.service.js';
import type { ReconcileMismatch } from '../engine/credit-views.js';
import { CreditsService } from '../engine/credits.service.js';
import type { CreatePurchaseDto, ListPurchasesQueryDto } from './dto/purchases.dto.js';
import { packagePrices, PackagesService } from './packages/packages.service.js';
import { shareOfAmount, shareOfValue } from './purchase-money.js';
import { PAID_STATUSES } from './purchase-status.js';
import { accountOf, grantedCredits, type PurchaseView, refundableCredits, toPurchaseView } from './purchase-views.js';
import { type PurchaseRow, PurchasesRepository } from './purchases.repository.js';

const DAY_MS = 86_400_000;

/**
 * Who changes a purchase: the caller's id for the ledger and the refund rows, and for a provider's
 * verified webhook (no authenticated caller) the audit actor.
 */
export interface PurchaseActor {
  createdBy: string;
  /** The API key the caller used (a service key), named on the ledger lines its refunds and disputes write. */
  apiKeyId?: string | null;
  system?: { actorUserId: string; actorVia: 'webhook' };
}

export const actorOfCaller = (caller: AuthUser): PurchaseActor => ({
  createdBy: caller.userId,
  apiKeyId: caller.apiKeyId ?? null,
});

/** Only service principals create and settle purchases: the buyer never decides it paid. */
export function assertServicePrincipal(caller: AuthUser): void {
  if (!isServicePrincipal(caller)) {
    throw new DomainError(
      'FORBIDDEN',
      'Only service principals (an admin token, or an API key with usage:ingest) may create or settle purchases',
    );
  }
}

/**
 * Who reads an account's purchases: the user, the org's readers, staff, and the service principals
 * that create purchases (src/auth/account-access.ts).
 */
/** Who names a purchase's account in its body: service principals (and staff), any account. */
export const PURCHASE_OWNERS: AccountRule = { user: 'staff', org: 'staff', services: true };

export const PURCHASE_READERS: AccountRule = {
  user: 'holder',
  org: 'reader',
  what: 'read its purchases',
  services: true,
};

/**
 * A purchase's life up to payment (docs/purchases.md "The purchase"): created pending, then paid (its one
 * allocation granted), failed or expired; and its reads. Every change locks the purchase row first,
 * then (through the engine) the account: one purchase's changes happen one at a time.
 */
@Injectable()
export class PurchasesService implements RowAccountReader {
  constructor(
    private readonly repo: PurchasesRepository,
    @Inject(CreditsService) private readonly credits: CreditsService,
    @Inject(CreditLotsService) private readonly lots: CreditLotsService,
    @Inject(Changes) private readonly changes: Changes,
    @Inject(PackagesService) private readonly packages: PackagesService,
    @Inject(BillingCurrencies) private readonly billing: BillingCurrencies,
    @Inject(CreditAccountsService) private readonly accounts: CreditAccountsService,
  ) {}

  /**
   * `forOrg`: the org the body names as the access guard decided the write (`bodyWrite`); `named`: the
   * account the body names, as it resolved it under PURCHASE_OWNERS; `erased`: the erased users the
   * request names, as it read them (an erased user's account: 409).
   */
  async create(
    caller: AuthUser,
    body: CreatePurchaseDto,
    forOrg: Taken<ResolvedAccount | null>,
    named: BodyNamed,
    erased: ReadonlySet<string>,
  ): Promise<PurchaseView> {
    assertServicePrincipal(caller);
    if ((body.userId === undefined) === (body.orgId === undefined)) {
      throw new DomainError('VALIDATION', 'Give exactly one of userId and orgId');
    }
    if (body.amount !== undefined && body.currency !== undefined && toMinor(body.amount, body.currency) <= 0n) {
      throw new DomainError('VALIDATION', 'amount must be greater than 0');
    }
    // An org that does not exist is NOT_A_MEMBER, as for every write naming an org (account-access.ts).
    if (body.orgId !== undefined) forOrg.take();
    return this.changes.tx.run(async (manager) => {
      if (body.userId !== undefined && erased.has(body.userId)) throw new AccountErasedError(409);
      const accountId = named.take()?.accountId;
      if (!accountId) throw new NotFoundError(body.orgId !== undefined ? 'Org' : 'User');
      // In the account's billing currency (when it has one): another → CURRENCY_MISMATCH, nothing written.
      // Read without the lock: paying the purchase checks it again under the lock (markPaid()).
      const sold = await this.sold(manager, body, await this.billing.of(manager, accountId));
      if (body.autoRechargeAttemptId !== undefined) {
        // The attempt must be this account's and still open (404 / 409 AUTO_RECHARGE_ATTEMPT_CLOSED).
        await this.accounts.assertRechargeOpen(manager, body.autoRechargeAttemptId, accountId);
      }
      const row = await this.repo.insert(manager, {
        accountId,
        userId: body.userId ?? null,
        orgId: body.orgId ?? null,
        ...sold,
        provider: body.provider,
        providerRef: body.providerRef ?? null,
        autoRechargeAttemptId: body.autoRechargeAttemptId ?? null,
        createdBy: caller.userId,
      });
      if (!row) {
        throw new DomainError(
          'PURCHASE_EXISTS',
          `A purchase of provider ${body.provider} has this providerRef already`,
        );
      }
      const view = toPurchaseView(row);
      await this.changes.audit.record(manager, {
        action: 'purchase.create',
        targetId: row.id,
        before: null,
        after: view,
      });
      return view;
    });
  }

  /**
   * What is sold: the package's credits, bonus, price and expiry (on sale, else PACKAGE_NOT_FOUND), at
   * its price in the named currency, else the account's `billing` currency, else its first (priceFor());
   * or the caller's own, at no less per credit than the packages on sale in its currency. Either in
   * another currency than `billing` → CURRENCY_MISMATCH.
   */
  private async sold(manager: EntityManager, body: CreatePurchaseDto, billing: string | null) {
    if (body.packageId !== undefined) {
      const p = await this.packages.onSale(manager, body.packageId);
      const price = priceFor(packagePrices(p), billing, body.currency);
      return {
        packageId: p.packageId,
        credits: p.credits,
        bonusCredits: p.bonusCredits,
        amount: price.amount,
        currency: price.currency,
        expiryDays: p.expiryDays,
      };
    }
    if (billing !== null && body.currency !== billing) {
      throw currencyMismatch(`This account pays in ${billing}, not ${body.currency}`);
    }
    const own = { credits: body.credits!, amount: body.amount!, currency: body.currency! };
    await this.packages.assertAtLeastFloor(manager, own);
    return { ...own, packageId: null, bonusCredits: 0, expiryDays: body.expiryDays ?? 365 };
  }

  /**
   * Paid: the purchase's one allocation (credits_grant() with its purchase id; the unique
   * constraint makes a second impossible), `purchase.paid`. Paid again answers the same view.
   */
  markPaid(actor: PurchaseActor, id: string, providerPaymentId: string | null): Promise<PurchaseView> {
    return this.changes.tx.run(async (manager) => {
      const row = await this.locked(manager, id);
      if (PAID_STATUSES.includes(row.status)) return toPurchaseView(row);
      if (row.status !== 'pending_payment') {
        throw new DomainError('PURCHASE_NOT_PAYABLE', `A ${row.status} purchase cannot be paid`);
      }
      // One payment pays one purchase (also a unique index, for two at once): a payment id seen on
      // another purchase would let one charge grant twice.
      if (providerPaymentId !== null && (await this.repo.idByPayment(manager, row.provider, providerPaymentId))) {
        throw new DomainError(
          'PURCHASE_EXISTS',
          `Payment ${providerPaymentId} of ${row.provider} paid another purchase`,
        );
      }
      // The account's first paid purchase sets its billing currency; one in another currency than it
      // has → CURRENCY_MISMATCH, nothing written. Under the account lock: of two first purchases in
      // different currencies paid at once, the second reads the first's currency.
      await this.accounts.lockAccount(manager, row.account_id);
      await this.billing.charge(manager, row.account_id, row.currency);
      const now = this.changes.clock.now();
      const allocation = await this.credits.grantOnce(manager, {
        accountId: row.account_id,
        credits: grantedCredits(row),
        expiresAt: new Date(now + row.expiry_days * DAY_MS),
        allocatedBy: actor.createdBy,
        notes: `purchase ${row.id}`,
        source: 'purchase',
        purchaseId: row.id,
        apiKeyId: actor.apiKeyId ?? null,
        // The lot is worth what was paid for it (docs/finance.md).
        value: { minor: toMinor(row.amount, row.currency), currency: row.currency },
      });
      const allocationId = allocation?.id ?? null;
      const allocationExpiresAt = allocation?.expiresAt ?? null;
      const after = await this.repo.update(manager, row.id, {
        status: 'paid',
        paid_at: new Date(now),
        provider_payment_id: providerPaymentId ?? row.provider_payment_id,
      });
      await this.closeAutoRechargeAttempt(manager, after);
      if (allocationId && allocationExpiresAt) {
        await this.changes.events.emit(manager, 'purchase.paid', {
          purchaseId: row.id,
          ...accountOf(row),
          allocationId,
          credits: row.credits,
          expiresAt: allocationExpiresAt,
          // A package's bonus came in the same allocation: a receipt says so.
          ...(row.bonus_credits > 0 ? { bonusCredits: row.bonus_credits } : {}),
          amount: row.amount,
          currency: row.currency,
        });
      }
      const view = toPurchaseView(after);
      await this.changes.audit.record(manager, {
        action: 'purchase.paid',
        targetId: row.id,
        before: toPurchaseView(row),
        after: view,
        system: actor.system,
      });
      return view;
    });
  }

  /**
   * ── AUTO-RECHARGE HOOK (the one place) ──
   * A paid purchase created with `autoRechargeAttemptId` closes that attempt as succeeded, in this
   * transaction, after the grant (CreditAccountsService.rechargeSucceeded()). It
   * never refuses the payment: an attempt failed meanwhile stays failed, and the credits were paid for.
   */
  private async closeAutoRechargeAttempt(manager: EntityManager, row: PurchaseRow): Promise<void> {
    if (row.auto_recharge_attempt_id === null) return;
    await this.accounts.rechargeSucceeded(manager, row.auto_recharge_attempt_id, row.account_id);
  }

  /** Failed or expired: from pending_payment only; nothing is granted. */
  close(actor: PurchaseActor, id: string, to: 'failed' | 'expired', reason: string | null): Promise<PurchaseView> {
    return this.changes.tx.run(async (manager) => {
      const row = await this.locked(manager, id);
      if (row.status !== 'pending_payment') {
        throw new DomainError('PURCHASE_NOT_PENDING', `The purchase is ${row.status}, not pending_payment`);
      }
      const after = await this.repo.update(manager, row.id, {
        status: to,
        reason,
        closed_at: new Date(this.changes.clock.now()),
      });
      const view = toPurchaseView(after);
      await this.changes.audit.record(manager, {
        action: to === 'failed' ? 'purchase.fail' : 'purchase.expire',
        targetId: row.id,
        before: toPurchaseView(row),
        after: view,
        system: actor.system,
      });
      return view;
    });
  }

  /** `reached`: whether the caller may read the purchase's account (PURCHASE_READERS), as the access guard decided. */
  async get(id: string, reached: Taken<boolean>): Promise<PurchaseView> {
    return toPurchaseView(await this.readable(id, reached));
  }

  /**
   * `{credits, amount}`: the allocation's refundable credits and their money by the rule
   * (docs/finance.md): all of the lot's valueRemaining when they are all its credits left.
   */
  async refundable(id: string, reached: Taken<boolean>): Promise<{ credits: number; amount: string }> {
    const row = await this.readable(id, reached);
    const allocation = await this.changes.tx.run((manager) => this.lots.purchaseAllocation(manager, row.id));
    const credits = refundableCredits(row, allocation?.refundable ?? 0);
    if (allocation?.refundable_minor == null) {
      return { credits, amount: shareOfAmount(credits, grantedCredits(row), row.amount, row.currency) };
    }
    const money = shareOfValue(BigInt(allocation.refundable_minor), credits, allocation.refundable);
    return { credits, amount: fromMinor(money, row.currency) };
  }

  /**
   * `named`: the account the query names, resolved by the access guard under PURCHASE_READERS, else
   * the caller's own user account (null: none yet); naming none lists the caller's own, or everyone's
   * for staff and service principals.
   */
  async list(
    caller: AuthUser,
    query: ListPurchasesQueryDto,
    named: ResolvedAccount | null,
  ): Promise<Page<PurchaseView>> {
    const naming = query.userId !== undefined || query.orgId !== undefined;
    const own = !naming && !seesAll(caller, PURCHASE_READERS);
    const account = own || naming ? named : null;
    const limit = query.limit ?? 50;
    const after = decodeTimeCursor(query.cursor, 'uuid');
    if ((own || naming) && !account) return toPage([], limit, toPurchaseView, () => ({ t: '', id: '' }));
    const rows = await this.repo.list({ accountId: account?.accountId, status: query.status, after, limit });
    return toPage(rows, limit, toPurchaseView, (r) => ({ t: r.cursor_t, id: r.id }));
  }

  /**
   * The purchase, when the caller may see it (own, org reader, staff: `reached`, the access guard's
   * decision on its account, which a purchase it did not find refuses too); else 404 as for none.
   */
  async readable(id: string, reached: Taken<boolean>): Promise<PurchaseRow> {
    const row = isUuid(id) ? await this.changes.tx.run((manager) => this.repo.find(manager, id)) : null;
    if (row && (await this.mayRead(reached))) return row;
    throw new NotFoundError('Purchase');
  }

  /** The guard's refusal (404, 403) is a no, as is a purchase it did not find; bad input stays an error. */
  private mayRead(reached: Taken<boolean>): Promise<boolean> {
    return reachable(async () => {
      if (!reached.take()) throw new NotFoundError('Purchase');
    });
  }

  /** The account purchase `id` is for, as it names it (null: no such purchase): ROW_ACCOUNTS' `purchase`. */
  async accountOfRow(id: string): Promise<Pick<ResolvedAccount, 'kind' | 'ownerId'> | null> {
    const row = await this.repo.owners(this.changes.tx.statementManager, id);
    return row && accountNamed(row.org_id, row.user_id!);
  }

  /** The purchase locked, or 404. */
  async locked(manager: EntityManager, id: string): Promise<PurchaseRow> {
    const row = isUuid(id) ? await this.repo.lock(manager, id) : null;
    if (!row) throw new NotFoundError('Purchase');
    return row;
  }

  /**
   * Reconcile's purchase check, run by the finance module's reconcile in its snapshot (`manager`): a
   * wholly refunded or charged-back purchase's lot has no credits left.
   */
  refundedLotsWithCredits(manager: EntityManager): Promise<ReconcileMismatch[]> {
    return this.repo.refundedLotsWithCredits(manager);
  }
}
