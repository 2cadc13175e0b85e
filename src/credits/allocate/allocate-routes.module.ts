import { type DynamicModule, Module } from '@nestjs/common';

import { type Handed, handedRoutes } from '../../common/handed-routes.js';
import { CreditsModule } from '../credits.module.js';
import { CreditAllocateController } from './credit-allocate.controller.js';
import { SIGNUP_GRANT, type SignupGrant } from './signup-grant.js';

/**
 * The manual grant's route (`POST /api/credits/allocate`). The signup credits a grant ahead of a login
 * runs are the promotions module's, so the composition root hands them in (`AllocateRoutesModule
 * .forRoot({ imports: [PromotionsModule], use: SignupCreditsService })`) and this folder imports none of it.
 */
@Module({})
export class AllocateRoutesModule {
  static forRoot(signup: Handed<SignupGrant>): DynamicModule {
    return handedRoutes(AllocateRoutesModule, [CreditAllocateController], SIGNUP_GRANT, signup, [CreditsModule]);
  }
}
