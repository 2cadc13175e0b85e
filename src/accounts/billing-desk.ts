import type { BillingCurrencyResponseDto, PutBillingCurrencyDto } from './dto/billing-currency.dto.js';

/**
 * An admin's choice of an account's billing currency, as `PUT /api/accounts/billing-currency` hands
 * it on. The check that the account's plan has a price in it is the plans module's, which sits above
 * accounts, so the composition root hands it in (`AccountRoutesModule.forRoot({ imports:
 * [PlansModule], use: BillingCurrencyService })`).
 */
export interface BillingDesk {
  put(body: PutBillingCurrencyDto): Promise<BillingCurrencyResponseDto>;
}
export const BILLING_DESK = Symbol('BILLING_DESK');
