import type { PromotionListResponseDto, PromotionResponseDto, RedemptionViewDto } from './dto/promotions.dto.js';
import type { Promotion } from './entities/promotion.entity.js';
import type { PromotionRedemption } from './entities/promotion-redemption.entity.js';

export type PromotionView = PromotionResponseDto;
export type PromotionPage = PromotionListResponseDto;

export function toPromotionView(p: Promotion): PromotionView {
  return {
    code: p.code,
    credits: p.credits,
    expiryDays: p.expiryDays,
    startsAt: p.startsAt?.toISOString() ?? null,
    endsAt: p.endsAt?.toISOString() ?? null,
    maxRedemptions: p.maxRedemptions,
    perAccount: p.perAccount,
    accounts: p.accounts,
    newAccountsWithinDays: p.newAccountsWithinDays,
    active: p.active,
    redemptions: p.redemptions,
    createdAt: p.createdAt.toISOString(),
  };
}

export function toRedemptionView(r: PromotionRedemption): RedemptionViewDto {
  return {
    redemptionId: r.id,
    code: r.code,
    allocationId: r.allocationId,
    credits: r.credits,
    expiresAt: r.expiresAt.toISOString(),
    userId: r.userId,
    orgId: r.orgId,
    redeemedBy: r.redeemedBy,
    createdAt: r.createdAt.toISOString(),
  };
}

/** One answer for a code that is unknown, inactive, not started or ended: a guesser learns nothing. */
export const PROMOTION_NOT_FOUND_MESSAGE = 'No such promotion code is redeemable';
