import { type QueryKey, useQueryClient } from '@tanstack/react-query';

import {
  getAlertThresholdsQueryKey,
  getCreditLimitsQueryKey,
  getCreditSummaryQueryKey,
  getPricingHistoryQueryKey,
  getPurchaseRefundableQueryKey,
  getUserOverviewQueryKey,
  listAllActiveSessionsQueryKey,
  listAllocationsQueryKey,
  listApiKeysQueryKey,
  listAuditEntriesQueryKey,
  listCurrentPricesQueryKey,
  listEventsQueryKey,
  listLedgerQueryKey,
  listPlansQueryKey,
  listPurchasesQueryKey,
  listReviewQueueQueryKey,
  listUsageRecordsQueryKey,
  listUserActiveSessionsQueryKey,
  listUsersQueryKey,
  listWebhookDeliveriesQueryKey,
  listWebhooksQueryKey,
} from '../api/generated/@tanstack/react-query.gen';

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

/** Whose purchases: a user's or an organisation's (the Purchases tab of either page). */
export type PurchaseAccount = { userId: string } | { orgId: string };

export const affected = {
  userCredits: userCreditsChanged,
  /** A purchase refunded: the account's purchases, their quotes and (a user's) credits. */
  purchases: (account: PurchaseAccount): QueryKey[] => [
    listPurchasesQueryKey({ query: account }),
    // without a path: a partial key that matches every purchase's quote
    getPurchaseRefundableQueryKey({} as Parameters<typeof getPurchaseRefundableQueryKey>[0]),
    ...('userId' in account ? userCreditsChanged(account.userId) : [audit()]),
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
  subscription: (userId: string) => [...userCreditsChanged(userId), listPlansQueryKey()], // subscriber counts
  session: (userId: string) => [
    ...userCreditsChanged(userId),
    listUserActiveSessionsQueryKey({ path: { userId } }),
    listAllActiveSessionsQueryKey(),
    listUsageRecordsQueryKey({ query: { userId } }),
  ],
  review: (userId: string) => [
    ...userCreditsChanged(userId),
    listReviewQueueQueryKey(),
    listUsageRecordsQueryKey({ query: { userId } }),
  ],
  apiKeys: (userId: string) => [listApiKeysQueryKey({ query: { userId } }), audit()],
  pricing: (modelIds: string[]) => [
    listCurrentPricesQueryKey(),
    ...modelIds.map((modelId) => getPricingHistoryQueryKey({ path: { modelId } })),
    audit(),
  ],
  plans: () => [listPlansQueryKey(), audit()],
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
