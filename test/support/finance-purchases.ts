import { ACCOUNT_ACCESS, type AccountAccess } from '../../src/auth/account-access.js';
import type { AuthUser } from '../../src/auth/roles.js';
import { DomainError } from '../../src/common/errors/domain-error.js';
import { PurchaseRefundsService } from '../../src/purchases/purchase-refunds.service.js';
import { PurchasesService } from '../../src/purchases/purchases.service.js';

/** What the finance property test remembers of a purchase it made (the service holds the rest). */
interface Bought {
  id: string;
  amountMinor: number;
  /** What the provider reported refunded so far (cumulative, as Stripe reports it). */
  providerRefundedMinor: number;
  disputed: boolean;
}

const ADMIN: AuthUser = { userId: 'prop-admin', role: 'admin', email: null, username: null, via: 'jwt' };
const ACTOR = { createdBy: 'prop-admin' };
/** Service calls of one worker in flight at once (each a transaction of its own on the app's pool). */
const IN_FLIGHT = 4;

const decimal = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;

/**
 * The purchases of the finance property test, made and taken back as the product does: through
 * PurchasesService (create, paid) and PurchaseRefundsService (an admin's refund, the provider's
 * cumulative refunds, disputes opened, won and lost), so refunds and disputes act on real purchase
 * rows. A refusal the service answers (more than is refundable) is an outcome like any other.
 */
export class FinancePurchases {
  private readonly bought = new Map<string, Bought[]>();
  private seq = 0;
  refused = 0;

  constructor(
    private readonly purchases: PurchasesService,
    private readonly refunds: PurchaseRefundsService,
    private readonly tag: string,
    private readonly access: Pick<AccountAccess, 'account'>,
  ) {}

  static of(
    app: { get<T>(type: new (...args: never[]) => T): T; get<T>(token: symbol): T },
    tag: string,
  ): FinancePurchases {
    return new FinancePurchases(
      app.get(PurchasesService),
      app.get(PurchaseRefundsService),
      tag,
      app.get<AccountAccess>(ACCOUNT_ACCESS),
    );
  }

  /** Runs `act` for every owner, IN_FLIGHT at a time (one owner's acts never overlap: one each). */
  async each(owners: string[], act: (owner: string) => Promise<void>): Promise<void> {
    for (let k = 0; k < owners.length; k += IN_FLIGHT) {
      await Promise.all(owners.slice(k, k + IN_FLIGHT).map((o) => this.refusable(act(o))));
    }
  }

  /** A purchase of `credits` for `amountMinor`, paid. */
  async buy(owner: string, credits: number, amountMinor: number, currency: string): Promise<void> {
    const ref = `${this.tag}-${++this.seq}`;
    // The owner's account as the access guard resolves what a purchase's body names.
    const account = await this.access.account({ kind: 'user', ownerId: owner });
    const view = await this.purchases.create(
      ADMIN,
      {
        userId: owner,
        credits,
        amount: decimal(amountMinor),
        currency,
        provider: 'prop',
        providerRef: ref,
        expiryDays: 30,
      },
      { take: () => null },
      { take: () => account },
      new Set(),
    );
    await this.purchases.markPaid(ACTOR, view.id, `pi_${ref}`);
    this.bought.set(owner, [
      ...(this.bought.get(owner) ?? []),
      { id: view.id, amountMinor, providerRefundedMinor: 0, disputed: false },
    ]);
  }

  /** An admin's refund of some credits (`pick` in [0, 1)), or the provider's refund of more of the amount. */
  async refund(owner: string, pick: () => number): Promise<void> {
    const p = this.one(owner, pick);
    if (!p) return;
    if (pick() < 0.5) {
      await this.refunds.refund(ACTOR, p.id, { credits: 1 + Math.floor(pick() * 60) });
      return;
    }
    const more = 1 + Math.floor(pick() * (p.amountMinor - p.providerRefundedMinor));
    if (p.providerRefundedMinor + more > p.amountMinor) return;
    await this.refunds.providerEvent(ACTOR, p.id, {
      type: 'refunded',
      amountRefunded: decimal(p.providerRefundedMinor + more),
    });
    p.providerRefundedMinor += more;
  }

  /** A dispute opened on a purchase, or one open closed: won or lost. */
  async dispute(owner: string, pick: () => number): Promise<void> {
    const p = this.one(owner, pick);
    if (!p) return;
    const type = !p.disputed ? 'dispute_opened' : pick() < 0.5 ? 'dispute_won' : 'dispute_lost';
    await this.refunds.providerEvent(ACTOR, p.id, { type });
    p.disputed = type === 'dispute_opened';
  }

  private one(owner: string, pick: () => number): Bought | undefined {
    const mine = this.bought.get(owner) ?? [];
    return mine[Math.floor(pick() * mine.length)];
  }

  private async refusable(act: Promise<void>): Promise<void> {
    try {
      await act;
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      this.refused++;
    }
  }
}
