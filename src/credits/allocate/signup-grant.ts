import type { UserCreatedHook } from '../../accounts/accounts.service.js';

/**
 * What the manual grant (`POST /api/credits/allocate`) hands `CreditAdminService.allocate()` for a
 * grant ahead of a login that creates the user's account: the signup credits to grant in the creating
 * transaction (none without SIGNUP_CREDITS). They are the promotions module's, which sits on the
 * engine beside credits, so the composition root hands them in (`AllocateRoutesModule.forRoot({
 * imports: [PromotionsModule], use: SignupCreditsService })`) and credits imports none of it.
 */
export interface SignupGrant {
  readonly onUserCreated: UserCreatedHook | undefined;
}
export const SIGNUP_GRANT = Symbol('SIGNUP_GRANT');
