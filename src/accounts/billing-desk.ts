import type { AccountRule } from '../auth/account-access.js';
import type { BodyNamed } from '../auth/auth.decorator.js';
import type { BillingCurrencyResponseDto, PutBillingCurrencyDto } from './dto/billing-currency.dto.js';

/** Whose billing currency the route sets: any account's, by an admin; an erased person's is 409. */
export const BILLING_SETTERS: AccountRule = { user: 'staff', org: 'staff', write: true };

/**
 * An admin's choice of an account's billing currency, as `PUT /api/accounts/billing-currency` hands
 * it on. The check that the account's plan has a price in it is the plans module's, which sits above
 * accounts, so the composition root hands it in (`AccountRoutesModule.forRoot({ imports:
 * [PlansModule], use: BillingCurrencyService })`).
 */
export interface BillingDesk {
  /** `account`: the one the body names, as the access guard resolved it under BILLING_SETTERS. */
  put(body: PutBillingCurrencyDto, account: BodyNamed): Promise<BillingCurrencyResponseDto>;
}
export const BILLING_DESK = Symbol('BILLING_DESK');
