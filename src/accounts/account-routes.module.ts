import { type DynamicModule, Module } from '@nestjs/common';

import { type Handed, handedRoutes } from '../common/handed-routes.js';
import { BillingCurrencyController } from './billing-currency.controller.js';
import { BILLING_DESK, type BillingDesk } from './billing-desk.js';

/**
 * The accounts' routes (/api/accounts): an account's billing currency, set by the desk the
 * composition root hands in (BILLING_DESK), so this folder imports none of the plans module.
 */
@Module({})
export class AccountRoutesModule {
  static forRoot(desk: Handed<BillingDesk>): DynamicModule {
    return handedRoutes(AccountRoutesModule, [BillingCurrencyController], BILLING_DESK, desk);
  }
}
