import type { EnvReader } from './env-reader.js';

/** Promotions and signup credits (docs/selling.md). */
export interface SellingConfig {
  /** SIGNUP_CREDITS: credits each new user account receives once (0: none). */
  signupCredits: number;
  /** SIGNUP_CREDITS_EXPIRY_DAYS: how long they last. */
  signupCreditsExpiryDays: number;
  /** PROMOTION_FAILURE_LIMIT: refused redemptions per principal within an hour before 429. */
  promotionFailureLimit: number;
  /**
   * PROMOTION_SERVICE_FAILURE_LIMIT: refused redemptions within an hour of one service principal (an
   * admin or a service key), across every account it names, before 429.
   */
  promotionServiceFailureLimit: number;
}

export function sellingConfig(read: EnvReader): SellingConfig {
  return {
    signupCredits: read.int('SIGNUP_CREDITS', 0, 0, 2_147_483_647),
    signupCreditsExpiryDays: read.int('SIGNUP_CREDITS_EXPIRY_DAYS', 30, 1, 3650),
    promotionFailureLimit: read.int('PROMOTION_FAILURE_LIMIT', 10, 1, 1_000_000),
    promotionServiceFailureLimit: read.int('PROMOTION_SERVICE_FAILURE_LIMIT', 100, 1, 1_000_000),
  };
}
