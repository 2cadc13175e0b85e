import { type QueryKey, useQueryClient } from '@tanstack/react-query';

import {
  getAlertThresholdsQueryKey,
  getCreditLimitsQueryKey,
  getCreditSummaryQueryKey,
  getOrgBalanceQueryKey,
  getOrgMemberQueryKey,
  getOrgQueryKey,
  getOrgSubscriptionQueryKey,
  getPricingHistoryQueryKey,
  getPurchaseRefundableQueryKey,
  getUserOverviewQueryKey,
  getUserUsageStatsQueryKey,
  listAccountPricesQueryKey,
  listAllActiveSessionsQueryKey,
  listAllocationsQueryKey,
  listApiKeysQueryKey,
  listAuditEntriesQueryKey,
  listCurrentPricesQueryKey,
  listEntitlementsQueryKey,
  listEventsQueryKey,
  listFeaturesQueryKey,
  listLedgerQueryKey,
  listOrgAllocationsQueryKey,
  listOrgLedgerQueryKey,
  listOrgMembersQueryKey,
  listOrgsQueryKey,
  listPackagesQueryKey,
  listPlansQueryKey,
  listPriceCatalogQueryKey,
  listPromotionsQueryKey,
  listPurchasesQueryKey,
  listReratesQueryKey,
  listReviewQueueQueryKey,
  listTransfersQueryKey,
  listUsageRecordsQueryKey,
  listUserActiveSessionsQueryKey,
  listUsersQueryKey,
  listWebhookDeliveriesQueryKey,
  listWebhooksQueryKey,
} from '../api/generated/@tanstack/react-query.gen';
import { type Account, accountRef } from './account';

/**
 * What each change can alter, as query keys. A key matches every query that starts with it (TanStack
 * Query's partial match): `listLedgerQueryKey({query: {userId}})` is that user's ledger whatever its
 * kind filter, as a list or pages. Only the matching queries on screen are fetched again; the others
 * are marked stale and fetched when next shown. Every change writes an audit entry.
 */
const audit = () => listAuditEntriesQueryKey();

/** A user's credits moved (a grant, a void, a charge, a plan's grant, a session settled). */
export function userCreditsChanged(userId: string): QueryKey[] {
  return [
    getUserOverviewQueryKey({ path: { userId } }),
    listAllocationsQueryKey({ query: { userId } }),
    listLedgerQueryKey({ query: { userId } }),
    getCreditLimitsQueryKey({ path: { userId } }), // its debt
    listUsersQueryKey(), // the balance columns
    getCreditSummaryQueryKey(),
    listEventsQueryKey(), // credits.granted, balance.low…
    audit(),
  ];
}

/** An org's pool moved: its figures, its members' available credits (the pool may bind), its lists. */
export function orgCreditsChanged(orgId: string): QueryKey[] {
  return [
    getOrgQueryKey({ path: { orgId } }),
    listOrgMembersQueryKey({ path: { orgId } }),
    listOrgAllocationsQueryKey({ path: { orgId } }),
    listOrgLedgerQueryKey({ path: { orgId } }),
    getOrgBalanceQueryKey({ path: { orgId } }),
    listOrgsQueryKey(), // the pool columns
    listTransfersQueryKey(),
    getCreditSummaryQueryKey(),
    listEventsQueryKey(),
    audit(),
  ];
}

/** A user's or an org's credits moved. */
export function accountCreditsChanged(account: Account): QueryKey[] {
  return account.orgId !== undefined
    ? orgCreditsChanged(account.orgId)
    : [...userCreditsChanged(account.userId), listTransfersQueryKey()];
}

/** A user's records moved on: their credits, the review queue and the record list. */
function usageChanged(userId: string): QueryKey[] {
  return [...userCreditsChanged(userId), listReviewQueueQueryKey(), listUsageRecordsQueryKey({ query: { userId } })];
}

export const affected = {
  userCredits: userCreditsChanged,
  accountCredits: accountCreditsChanged,
  /** A purchase refunded: the account's purchases, their quotes and the account's credits. */
  purchases: (account: Account): QueryKey[] => [
    listPurchasesQueryKey({ query: accountRef(account) }),
    // without a path: a partial key that matches every purchase's quote
    getPurchaseRefundableQueryKey({} as Parameters<typeof getPurchaseRefundableQueryKey>[0]),
    ...accountCreditsChanged(account),
  ],
  /** Both sides of a transfer. */
  transfer: (from: Account, to: Account) => [...accountCreditsChanged(from), ...accountCreditsChanged(to)],
  member: (orgId: string, userId: string) => [
    listOrgMembersQueryKey({ path: { orgId } }),
    getOrgMemberQueryKey({ path: { orgId, userId } }),
    getOrgQueryKey({ path: { orgId } }), // memberCount
    listOrgsQueryKey(),
    audit(),
  ],
  limits: (userId: string) => [
    getCreditLimitsQueryKey({ path: { userId } }),
    getUserOverviewQueryKey({ path: { userId } }),
    audit(),
  ],
  alerts: (userId: string) => [
    getAlertThresholdsQueryKey({ path: { userId } }),
    getUserOverviewQueryKey({ path: { userId } }),
    audit(),
  ],
  /** A plan changed or ended: the account's credits, an org's subscription and the subscriber counts. */
  subscription: (account: Account) => [
    ...accountCreditsChanged(account),
    ...(account.orgId !== undefined ? [getOrgSubscriptionQueryKey({ path: { orgId: account.orgId } })] : []),
    listPlansQueryKey(),
  ],
  session: (userId: string) => [
    ...userCreditsChanged(userId),
    listUserActiveSessionsQueryKey({ path: { userId } }),
    listAllActiveSessionsQueryKey(),
    listUsageRecordsQueryKey({ query: { userId } }),
  ],
  review: (userId: string) => usageChanged(userId),
  /** A record corrected: its row (net, corrections), the account's credits and its usage stats (net). */
  correction: (userId: string) => [...usageChanged(userId), getUserUsageStatsQueryKey({ path: { userId } })],
  /** A re-rate started or moved on: the list of re-rates (records it corrects are on no screen yet). */
  rerates: () => [listReratesQueryKey(), audit()],
  apiKeys: (userId: string) => [listApiKeysQueryKey({ query: { userId } }), audit()],
  pricing: (modelIds: string[]) => [
    listCurrentPricesQueryKey(),
    listPriceCatalogQueryKey(), // which models a rule overrides
    ...modelIds.map((modelId) => getPricingHistoryQueryKey({ path: { modelId } })),
    audit(),
  ],
  accountPrices: (account: { userId: string } | { orgId: string }) => [
    listAccountPricesQueryKey({ query: account }),
    audit(),
  ],
  plans: () => [listPlansQueryKey(), audit()],
  features: () => [listFeaturesQueryKey(), listEntitlementsQueryKey(), audit()], // names in every account's list
  /** An account's override set or removed: its list of features. */
  entitlements: (account: Account) => [listEntitlementsQueryKey({ query: accountRef(account) }), audit()],
  /** A plan's grants changed: every subscriber's list (a partial key matches each account's). */
  allEntitlements: () => [listEntitlementsQueryKey()],
  packages: () => [listPackagesQueryKey(), audit()],
  promotions: () => [listPromotionsQueryKey(), audit()],
  webhooks: () => [listWebhooksQueryKey(), audit()],
  deliveries: (webhookId: string) => [listWebhookDeliveriesQueryKey({ path: { id: webhookId } }), audit()],
};

/** Invalidates exactly the given keys (never the whole cache). */
export function useInvalidate(): (keys: QueryKey[]) => Promise<void> {
  const queryClient = useQueryClient();
  return async (keys) => {
    await Promise.all(keys.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
  };
}
