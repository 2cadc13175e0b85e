import { CreateUserAccounts1732000000000 } from './1732000000000-create-user-accounts.js';
import { CreateCredits1732000001000 } from './1732000001000-create-credits.js';
import { CreatePricingRules1732000001100 } from './1732000001100-create-pricing-rules.js';
import { CreateUsageRecords1732000002000 } from './1732000002000-create-usage-records.js';
import { CreateUsageRollups1732000002100 } from './1732000002100-create-usage-rollups.js';
import { CreateIdempotencyKeys1732000002500 } from './1732000002500-create-idempotency-keys.js';
import { CreateStreamingSessions1732000003000 } from './1732000003000-create-streaming-sessions.js';
import { CreateApiKeys1732000004000 } from './1732000004000-create-api-keys.js';
import { CreateCreditsTake1732000005000 } from './1732000005000-create-credits-take.js';
import { AllocationExpiryDone1732000006000 } from './1732000006000-allocation-expiry-done.js';
import { WidenUsageProviderCost1732000007000 } from './1732000007000-widen-usage-provider-cost.js';
import { CreatePlans1732000008000 } from './1732000008000-create-plans.js';
import { CreateSpendControls1732000009000 } from './1732000009000-create-spend-controls.js';
import { CreateEventsAndWebhooks1732000010000 } from './1732000010000-create-events-and-webhooks.js';
import { AllocationExpiringNotice1732000010500 } from './1732000010500-allocation-expiring-notice.js';
import { CreateUsageEventIds1732000011000 } from './1732000011000-create-usage-event-ids.js';
import { CreateCreditsTakeEvents1732000012000 } from './1732000012000-create-credits-take-events.js';
import { BatchTakeJoins1732000013000 } from './1732000013000-batch-take-joins.js';
import { CreateCreditsHoldAndSettle1732000014000 } from './1732000014000-create-credits-hold-and-settle.js';
import { BatchTakeSpendWindows1732000015000 } from './1732000015000-batch-take-spend-windows.js';
import { PerUserSessionIds1732000016000 } from './1732000016000-per-user-session-ids.js';
import { SubscriptionsUserHistoryIdx1732000016200 } from './1732000016200-subscriptions-user-history-idx.js';
import { PerUserSessionsAndHoldLimits1732000017000 } from './1732000017000-per-user-sessions-and-hold-limits.js';
import { WebhookDeliveriesPendingEventIdx1732000018000 } from './1732000018000-webhook-deliveries-pending-event-idx.js';
import { CreditAccountsAlertsArmed1732000018100 } from './1732000018100-credit-accounts-alerts-armed.js';
import { BalanceAlertsOncePerGrant1732000019100 } from './1732000019100-balance-alerts-once-per-grant.js';
import { BatchTakeUsageParts1732000020000 } from './1732000020000-batch-take-usage-parts.js';
import { SharedCreditRules1732000020100 } from './1732000020100-shared-credit-rules.js';
import { AccountLockInCredits1732000020200 } from './1732000020200-account-lock-in-credits.js';
import { CreditRulesPlpgsql1732000020300 } from './1732000020300-credit-rules-plpgsql.js';
import { TokenKinds1732000021000 } from './1732000021000-token-kinds.js';
import { TokenKindsRollups1732000021100 } from './1732000021100-token-kinds-rollups.js';
import { AuditLogAppendOnly1732000022000 } from './1732000022000-audit-log-append-only.js';
import { CreateAuditLog1732000022100 } from './1732000022100-create-audit-log.js';
import { CreditLedgerCreatedBrin1732000022200 } from './1732000022200-credit-ledger-created-brin.js';
import { OneAccountByEqualityAndSpendWindow1732000023200 } from './1732000023200-one-account-by-equality-and-spend-window.js';
import { SessionEstimateKinds1732000023300 } from './1732000023300-session-estimate-kinds.js';
import { CreditLedgerApiKey1732000024000 } from './1732000024000-credit-ledger-api-key.js';
import { OneDecision1732000024100 } from './1732000024100-one-decision.js';
import { MovementsInTheEngine1732000024200 } from './1732000024200-movements-in-the-engine.js';
import { Accounts1732000024300 } from './1732000024300-accounts.js';
import { LockTheAccount1732000024400 } from './1732000024400-lock-the-account.js';
import { ExpiryRoundsByDueAllocations1732000024500 } from './1732000024500-expiry-rounds-by-due-allocations.js';
import { LockABudgetedKey1732000024600 } from './1732000024600-lock-a-budgeted-key.js';
import { CreditTablesByAccount1732000024900 } from './1732000024900-credit-tables-by-account.js';
import { CreditsByAccount1732000024950 } from './1732000024950-credits-by-account.js';
import { OneUsageRollupFunction1732000026000 } from './1732000026000-one-usage-rollup-function.js';
import { WhoActed1732000027000 } from './1732000027000-who-acted.js';
import { ProviderUsage1732000029000 } from './1732000029000-provider-usage.js';
import { CreateOrgs1732000030000 } from './1732000030000-create-orgs.js';
import { OrgSpending1732000030100 } from './1732000030100-org-spending.js';
import { OrgMemberFunctions1732000031000 } from './1732000031000-org-member-functions.js';
import { OrgSubscriptions1732000031100 } from './1732000031100-org-subscriptions.js';
import { OrgMetering1732000032000 } from './1732000032000-org-metering.js';
import { OrgMemberCaps1732000032100 } from './1732000032100-org-member-caps.js';
import { CreditTransfers1732000033000 } from './1732000033000-credit-transfers.js';
import { CreditsTransfer1732000033100 } from './1732000033100-credits-transfer.js';
import { CreatePurchases1732000034000 } from './1732000034000-create-purchases.js';
import { PurchaseMovements1732000034100 } from './1732000034100-purchase-movements.js';
import { AutoRecharge1732000035000 } from './1732000035000-auto-recharge.js';
import { AutoRechargeFunctions1732000035100 } from './1732000035100-auto-recharge-functions.js';
import { OrgMeteringAfterAutoRecharge1732000035800 } from './1732000035800-org-metering-after-auto-recharge.js';
import { MergeOrgMeteringAndAutoRecharge1732000035900 } from './1732000035900-merge-org-metering-and-auto-recharge.js';
import { LedgerWriterPlans1732000036000 } from './1732000036000-ledger-writer-plans.js';
import { OrgBalanceAlerts1732000037000 } from './1732000037000-org-balance-alerts.js';
import { BatchTakeLookups1732000038000 } from './1732000038000-batch-take-lookups.js';
import { RecordsTogetherStatements1732000038100 } from './1732000038100-records-together-statements.js';
import { TimeOrderedUuid1732000038200 } from './1732000038200-time-ordered-uuid.js';
import { TimeOrderedIds1732000038300 } from './1732000038300-time-ordered-ids.js';
import { AccountOfNotInlined1732000038400 } from './1732000038400-account-of-not-inlined.js';
import { MeteringAuditTrail1732000040000 } from './1732000040000-metering-audit-trail.js';
import { MeteringAuditTrailFunctions1732000040100 } from './1732000040100-metering-audit-trail-functions.js';
import { SecurityFindings1732000041000 } from './1732000041000-security-findings.js';
import { RefundHeldCredits1732000041100 } from './1732000041100-refund-held-credits.js';
import { MemberCapsAtSettlement1732000041200 } from './1732000041200-member-caps-at-settlement.js';
import { PurchaseLinesNameTheKey1732000041300 } from './1732000041300-purchase-lines-name-the-key.js';
import { PricingChangedNotify1732000044000 } from './1732000044000-pricing-changed-notify.js';
import { PricingByAccount1732000044100 } from './1732000044100-pricing-by-account.js';
import { PortalSessions1732000045000 } from './1732000045000-portal-sessions.js';
import { EmailNotifications1732000046000 } from './1732000046000-email-notifications.js';
import { EmailNoticeFunctions1732000046100 } from './1732000046100-email-notice-functions.js';
import { EmailNotificationsTrigger1732000046200 } from './1732000046200-email-notifications-trigger.js';
import { Selling1732000047000 } from './1732000047000-selling.js';
import { GrantNamesTheKey1732000048000 } from './1732000048000-grant-names-the-key.js';
import { PricingNotifyOnModelLists1732000049000 } from './1732000049000-pricing-notify-on-model-lists.js';
import { EventsFromTheEngine1732000051000 } from './1732000051000-events-from-the-engine.js';
import { DerivedStateInTheWriter1732000051100 } from './1732000051100-derived-state-in-the-writer.js';
import { OneTake1732000051990 } from './1732000051990-one-take.js';
import { ValuedAllocations1732000052000 } from './1732000052000-valued-allocations.js';
import { FinanceReconciliations1732000053000 } from './1732000053000-finance-reconciliations.js';
import { CapSpendCounter1732000055000 } from './1732000055000-cap-spend-counter.js';
import { CapSpendFunctions1732000055100 } from './1732000055100-cap-spend-functions.js';
import { DropKeyAndMemberSpend1732000055200 } from './1732000055200-drop-key-and-member-spend.js';
import { ValuedMoney1732000056200 } from './1732000056200-valued-money.js';
import { CreditCaps1732000060000 } from './1732000060000-credit-caps.js';
import { CapsInCreditCaps1732000060100 } from './1732000060100-caps-in-credit-caps.js';
import { DropKeyAndMemberLimits1732000060200 } from './1732000060200-drop-key-and-member-limits.js';
import { ExpiryWaitsForRenewalsDue1732000064000 } from './1732000064000-expiry-waits-for-renewals-due.js';
import { OneAccountIdCapsAndSpeed1732000065000 } from './1732000065000-one-account-id-caps-and-speed.js';
import { ValuedLinesBySubscript1732000066000 } from './1732000066000-valued-lines-by-subscript.js';
import { MemberColumns1732000070000 } from './1732000070000-member-columns.js';
import { MemberColumnsFunctions1732000071000 } from './1732000071000-member-columns-functions.js';
import { BatchReadsOnlyWhatItUses1732000100000 } from './1732000100000-batch-reads-only-what-it-uses.js';
import { LedgerMoneyRuleFromTheRead1732000110000 } from './1732000110000-ledger-money-rule-from-the-read.js';
import { MemberCapsInOneStatement1732000120000 } from './1732000120000-member-caps-in-one-statement.js';
import { LedgerWriterLineAlone1732000130000 } from './1732000130000-ledger-writer-line-alone.js';
import { OneRefusalRuleKeyGiveBacks1732000140000 } from './1732000140000-one-refusal-rule-key-give-backs.js';
import { SettleInFewerStatements1732000150000 } from './1732000150000-settle-in-fewer-statements.js';
import { SettleBranches1732000160000 } from './1732000160000-settle-branches.js';
import { CompactChecks1732000170000 } from './1732000170000-compact-checks.js';
import { PricingDimensions1732000400000 } from './1732000400000-pricing-dimensions.js';
import { ParquetExports1732000600000 } from './1732000600000-parquet-exports.js';
import { ErasedAccounts1732000650000 } from './1732000650000-erasure.js';
import { ErasureFunctions1732000651000 } from './1732000651000-erasure-functions.js';
import { PortalKeyTies1732000750000 } from './1732000750000-portal-key-ties.js';
import { LateUsage1732000810000 } from './1732000810000-late-usage.js';
import { LateUsageFunctions1732000811000 } from './1732000811000-late-usage-functions.js';
import { PricingRerates1732000812000 } from './1732000812000-pricing-rerates.js';
import { UsageCorrections1732000858000 } from './1732000858000-usage-corrections.js';
import { UsageCorrectionsFunctions1732000858100 } from './1732000858100-usage-corrections-functions.js';
import { UsageCorrectionsRollup1732000858200 } from './1732000858200-usage-corrections-rollup.js';
import { OccurredAtOfHandWrittenRecords1732000859200 } from './1732000859200-occurred-at-of-hand-written-records.js';
import { OccurredAtTrigger1732000859300 } from './1732000859300-occurred-at-trigger.js';
import { Features1732000860000 } from './1732000860000-features.js';
import { Features1732000861000 } from './1732000861000-features.js';
import { CorrectionsExport1732000862000 } from './1732000862000-corrections-export.js';
import { UsageRecordsCorrect1732000863000 } from './1732000863000-usage-records-correct.js';
import { AutoRechargeEventsAccount1732000910000 } from './1732000910000-auto-recharge-events-account.js';
import { CreditLedgerDays1732000930000 } from './1732000930000-credit-ledger-days.js';
import { RerateChunkCorrections1732000940000 } from './1732000940000-rerate-chunk-corrections.js';
import { PricingRerateLanes1732000960000 } from './1732000960000-pricing-rerate-lanes.js';
import { RerateEventsAtOnce1732000960010 } from './1732000960010-rerate-events-at-once.js';
import { TakeSingleShape1732000980000 } from './1732000980000-take-single-shape.js';
import { PlanModelLists1732001010000 } from './1732001010000-plan-model-lists.js';
import { EventsSkipDeletedEndpoints1732001011000 } from './1732001011000-events-skip-deleted-endpoints.js';
import { DropCreditAccountOf1732001050000 } from './1732001050000-drop-credit-account-of.js';
import { UsageReviewResolutions1732001060000 } from './1732001060000-usage-review-resolutions.js';
import { ReviewResolutionsRecorded1732001070000 } from './1732001070000-review-resolutions-recorded.js';
import { ErasureByAccount1732001100000 } from './1732001100000-erasure-by-account.js';
import { PortalSessionsUserIndex1732001100100 } from './1732001100100-portal-sessions-user-index.js';
import { ErasureRollupsAndTransferLots1732001100200 } from './1732001100200-erasure-rollups-and-transfer-lots.js';
import { AuditEraseIndexConditions1732001100300 } from './1732001100300-audit-erase-index-conditions.js';
import { UsageRollupForgetRecordsOnly1732001100400 } from './1732001100400-usage-rollup-forget-records-only.js';
import { EntitlementEventConsume1732001300000 } from './1732001300000-entitlement-event-consume.js';
import { EntitlementEventReused1732001301000 } from './1732001301000-entitlement-event-reused.js';
import { PricingRuleMaxOutputTokens1732001500000 } from './1732001500000-pricing-rule-max-output-tokens.js';
import { SessionRecordExtras1732001510000 } from './1732001510000-session-record-extras.js';
import { SubscriptionSchedules1732001600000 } from './1732001600000-subscription-schedules.js';
import { PlanLotsExpireNow1732001610000 } from './1732001610000-plan-lots-expire-now.js';
import { PlanLotsEndAtTheChange1732001620000 } from './1732001620000-plan-lots-end-at-the-change.js';
import { UsageRecordsErase1732001621000 } from './1732001621000-usage-records-erase.js';
import { RunwayAlerts1732001700000 } from './1732001700000-runway-alerts.js';
import { Budgets1732001800000 } from './1732001800000-budgets.js';
import { BudgetCaps1732001801000 } from './1732001801000-budget-caps.js';
import { BudgetReachedEmail1732001820000 } from './1732001820000-budget-reached-email.js';
import { VolumeSteps1732001850000 } from './1732001850000-volume-steps.js';
import { TakeEventsBeforeVolumeSteps1732001850500 } from './1732001850500-take-events-before-volume-steps.js';
import { VolumeStepsFunctions1732001851000 } from './1732001851000-volume-steps-functions.js';
import { VolumeStepsWithBudgets1732001851500 } from './1732001851500-volume-steps-with-budgets.js';
import { RecordWithoutClaim1732001910000 } from './1732001910000-record-without-claim.js';
import { CorrectionsOneShape1732002000000 } from './1732002000000-corrections-one-shape.js';
import { UsageRecordNet1732002001000 } from './1732002001000-usage-record-net.js';
import { OneEmitter1732002050000 } from './1732002050000-one-emitter.js';
import { BudgetChainByKey1732002100000 } from './1732002100000-budget-chain-by-key.js';
import { VolumeMoney1732002200000 } from './1732002200000-volume-money.js';
import { VolumeStepsSettlements1732002201000 } from './1732002201000-volume-steps-settlements.js';
import { AccountCarried1732002400000 } from './1732002400000-account-carried.js';
import { RecordAccountRead1732002401000 } from './1732002401000-record-account-read.js';
import { TakeAnswerPlannedOnce1732002600000 } from './1732002600000-take-answer-planned-once.js';
import { UsageRecordsReviewIdxDropped1732002610000 } from './1732002610000-usage-records-review-idx-dropped.js';
import { VolumeWalk1732003000000 } from './1732003000000-volume-walk.js';
import { VolumeTail1732003300000 } from './1732003300000-volume-tail.js';
import { SubscriptionAccount1732003400000 } from './1732003400000-subscription-account.js';
import { BudgetChainWalkedInCaps1732003700000 } from './1732003700000-budget-chain-walked-in-caps.js';
import { BudgetChainParentReadOnce1732003710000 } from './1732003710000-budget-chain-parent-read-once.js';
import { BudgetChainWalkedOnce1732003800000 } from './1732003800000-budget-chain-walked-once.js';
import { BudgetCountersByKey1732003810000 } from './1732003810000-budget-counters-by-key.js';
import { ErasureDownKeepsJsonEraseFirst1732004000000 } from './1732004000000-erasure-down-keeps-json-erase-first.js';
import { BudgetSpendOnItsRow1732004100000 } from './1732004100000-budget-spend-on-its-row.js';
import { BudgetSpendFunctions1732004110000 } from './1732004110000-budget-spend-functions.js';
import { HoldRowPlannedOnce1732004300000 } from './1732004300000-hold-row-planned-once.js';
import { BatchTakePlannedOnce1732004310000 } from './1732004310000-batch-take-planned-once.js';
import { BudgetTakeLeastRoom1732004400000 } from './1732004400000-budget-take-least-room.js';
import { BudgetCapsFewerSteps1732004410000 } from './1732004410000-budget-caps-fewer-steps.js';
import { BudgetSettingsCheck1732004420000 } from './1732004420000-budget-settings-check.js';
import { BudgetSettingsByTrigger1732004430000 } from './1732004430000-budget-settings-by-trigger.js';
import { BudgetCapsOneRow1732004440000 } from './1732004440000-budget-caps-one-row.js';
import { BatchTakePlansWithBudgetLeastRoom1732004600000 } from './1732004600000-batch-take-plans-with-budget-least-room.js';
import { BudgetCapsByEventAccounts1732004750000 } from './1732004750000-budget-caps-by-event-accounts.js';
import { ShorterHotChecks1732004800000 } from './1732004800000-shorter-hot-checks.js';
import { GiveBackSumsInLoop1732004810000 } from './1732004810000-give-back-sums-in-loop.js';
import { CountsChecks1732004900000 } from './1732004900000-counts-checks.js';
import { RecordsOfManyWriters1732005000000 } from './1732005000000-records-of-many-writers.js';
import { RerateRequestAccount1732005100000 } from './1732005100000-rerate-request-account.js';
import { HoldsTogether1732005200000 } from './1732005200000-holds-together.js';
import { BudgetCapsOneStatement1732005400000 } from './1732005400000-budget-caps-one-statement.js';
import { PricingRuleContextWindow1732005500000 } from './1732005500000-pricing-rule-context-window.js';
import { VolumeCorrectionsLowerTotals1732005600000 } from './1732005600000-volume-corrections-lower-totals.js';
import { BudgetIdsPerAccount1732005610000 } from './1732005610000-budget-ids-per-account.js';
import { ErasureWholeWords1732005700000 } from './1732005700000-erasure-whole-words.js';
import { PriceCatalogue1732005800000 } from './1732005800000-price-catalogue.js';
import { HoldsScopedByAccount1732006000000 } from './1732006000000-holds-scoped-by-account.js';
import { ErasureOwnRowsOnly1732006001000 } from './1732006001000-erasure-own-rows-only.js';
import { MultiCurrencyPrices1732006200000 } from './1732006200000-multi-currency-prices.js';
import { FinanceFxRates1732006300000 } from './1732006300000-finance-fx-rates.js';
import { VolumeTotalsChargedCredits1732006500000 } from './1732006500000-volume-totals-charged-credits.js';
import { VolumeRoundsPerRequest1732006510000 } from './1732006510000-volume-rounds-per-request.js';
import { MoneyInMinorPlaces1732006600000 } from './1732006600000-money-in-minor-places.js';
import { EventIdsOfManyWriters1732006700000 } from './1732006700000-event-ids-of-many-writers.js';
import { TakeSteps1732006900000 } from './1732006900000-take-steps.js';
import { TakeStepsColumns1732006910000 } from './1732006910000-take-steps-columns.js';
import { TakeStepsExpressions1732006920000 } from './1732006920000-take-steps-expressions.js';
import { SettleMany1732007100000 } from './1732007100000-settle-many.js';
import { UsageKeysClaim1732007200000 } from './1732007200000-usage-keys-claim.js';
import { CorrectionThroughTheEngine1732007500000 } from './1732007500000-correction-through-the-engine.js';
import { AccountPricesAccount1732007600000 } from './1732007600000-account-prices-account.js';
import { AccountReads1732007800000 } from './1732007800000-account-reads.js';
import { PayerTies1732008000000 } from './1732008000000-payer-ties.js';
import { UnclaimedOneLookup1732008200000 } from './1732008200000-unclaimed-one-lookup.js';
import { KeysClaimedTogether1732008201000 } from './1732008201000-keys-claimed-together.js';
import { TakeChecksWithoutAQuery1732008202000 } from './1732008202000-take-checks-without-a-query.js';
import { SettlementsTogether1732008203000 } from './1732008203000-settlements-together.js';
import { SettlementsLinesOnce1732008204000 } from './1732008204000-settlements-lines-once.js';
import { LoneSettlementLocksOnce1732008205000 } from './1732008205000-lone-settlement-locks-once.js';
import { WriteChecks1732008206000 } from './1732008206000-write-checks.js';
import { WriteChecksByTrigger1732008207000 } from './1732008207000-write-checks-by-trigger.js';
import { OneCheckRefusal1732008208000 } from './1732008208000-one-check-refusal.js';
import { LoneTakeLockAndLots1732008209000 } from './1732008209000-lone-take-lock-and-lots.js';
import { SettleLockByKey1732008210000 } from './1732008210000-settle-lock-by-key.js';
import { OneAccountLockByKey1732008211000 } from './1732008211000-one-account-lock-by-key.js';
import { OneAccountLockThroughTheSet1732008212000 } from './1732008212000-one-account-lock-through-the-set.js';
import { LoneTakeOneLine1732008213000 } from './1732008213000-lone-take-one-line.js';
import { KeyTablesUpkeep1732008214000 } from './1732008214000-key-tables-upkeep.js';
import { TakeWriteOneCall1732008215000 } from './1732008215000-take-write-one-call.js';
import { LoneHoldOneLine1732008216000 } from './1732008216000-lone-hold-one-line.js';

/** Every migration, in order. Listed explicitly so the app, the CLI and the tests run the same set. */
export const MIGRATIONS = [
  CreateUserAccounts1732000000000,
  CreateCredits1732000001000,
  CreatePricingRules1732000001100,
  CreateUsageRecords1732000002000,
  CreateUsageRollups1732000002100,
  CreateIdempotencyKeys1732000002500,
  CreateStreamingSessions1732000003000,
  CreateApiKeys1732000004000,
  CreateCreditsTake1732000005000,
  AllocationExpiryDone1732000006000,
  WidenUsageProviderCost1732000007000,
  CreatePlans1732000008000,
  CreateSpendControls1732000009000,
  CreateEventsAndWebhooks1732000010000,
  AllocationExpiringNotice1732000010500,
  CreateUsageEventIds1732000011000,
  CreateCreditsTakeEvents1732000012000,
  BatchTakeJoins1732000013000,
  CreateCreditsHoldAndSettle1732000014000,
  BatchTakeSpendWindows1732000015000,
  PerUserSessionIds1732000016000,
  SubscriptionsUserHistoryIdx1732000016200,
  PerUserSessionsAndHoldLimits1732000017000,
  WebhookDeliveriesPendingEventIdx1732000018000,
  CreditAccountsAlertsArmed1732000018100,
  BalanceAlertsOncePerGrant1732000019100,
  BatchTakeUsageParts1732000020000,
  SharedCreditRules1732000020100,
  AccountLockInCredits1732000020200,
  CreditRulesPlpgsql1732000020300,
  TokenKinds1732000021000,
  TokenKindsRollups1732000021100,
  AuditLogAppendOnly1732000022000,
  CreateAuditLog1732000022100,
  CreditLedgerCreatedBrin1732000022200,
  OneAccountByEqualityAndSpendWindow1732000023200,
  SessionEstimateKinds1732000023300,
  CreditLedgerApiKey1732000024000,
  OneDecision1732000024100,
  MovementsInTheEngine1732000024200,
  Accounts1732000024300,
  LockTheAccount1732000024400,
  ExpiryRoundsByDueAllocations1732000024500,
  LockABudgetedKey1732000024600,
  CreditTablesByAccount1732000024900,
  CreditsByAccount1732000024950,
  OneUsageRollupFunction1732000026000,
  WhoActed1732000027000,
  ProviderUsage1732000029000,
  CreateOrgs1732000030000,
  OrgSpending1732000030100,
  OrgMemberFunctions1732000031000,
  OrgSubscriptions1732000031100,
  OrgMetering1732000032000,
  OrgMemberCaps1732000032100,
  CreditTransfers1732000033000,
  CreditsTransfer1732000033100,
  CreatePurchases1732000034000,
  PurchaseMovements1732000034100,
  AutoRecharge1732000035000,
  AutoRechargeFunctions1732000035100,
  OrgMeteringAfterAutoRecharge1732000035800,
  MergeOrgMeteringAndAutoRecharge1732000035900,
  LedgerWriterPlans1732000036000,
  OrgBalanceAlerts1732000037000,
  BatchTakeLookups1732000038000,
  RecordsTogetherStatements1732000038100,
  TimeOrderedUuid1732000038200,
  TimeOrderedIds1732000038300,
  AccountOfNotInlined1732000038400,
  MeteringAuditTrail1732000040000,
  MeteringAuditTrailFunctions1732000040100,
  SecurityFindings1732000041000,
  RefundHeldCredits1732000041100,
  MemberCapsAtSettlement1732000041200,
  PurchaseLinesNameTheKey1732000041300,
  PricingChangedNotify1732000044000,
  PricingByAccount1732000044100,
  PortalSessions1732000045000,
  EmailNotifications1732000046000,
  EmailNoticeFunctions1732000046100,
  EmailNotificationsTrigger1732000046200,
  Selling1732000047000,
  GrantNamesTheKey1732000048000,
  PricingNotifyOnModelLists1732000049000,
  EventsFromTheEngine1732000051000,
  DerivedStateInTheWriter1732000051100,
  OneTake1732000051990,
  ValuedAllocations1732000052000,
  FinanceReconciliations1732000053000,
  CapSpendCounter1732000055000,
  CapSpendFunctions1732000055100,
  DropKeyAndMemberSpend1732000055200,
  ValuedMoney1732000056200,
  CreditCaps1732000060000,
  CapsInCreditCaps1732000060100,
  DropKeyAndMemberLimits1732000060200,
  ExpiryWaitsForRenewalsDue1732000064000,
  OneAccountIdCapsAndSpeed1732000065000,
  ValuedLinesBySubscript1732000066000,
  MemberColumns1732000070000,
  MemberColumnsFunctions1732000071000,
  BatchReadsOnlyWhatItUses1732000100000,
  LedgerMoneyRuleFromTheRead1732000110000,
  MemberCapsInOneStatement1732000120000,
  LedgerWriterLineAlone1732000130000,
  OneRefusalRuleKeyGiveBacks1732000140000,
  SettleInFewerStatements1732000150000,
  SettleBranches1732000160000,
  CompactChecks1732000170000,
  PricingDimensions1732000400000,
  ParquetExports1732000600000,
  ErasedAccounts1732000650000,
  ErasureFunctions1732000651000,
  PortalKeyTies1732000750000,
  LateUsage1732000810000,
  LateUsageFunctions1732000811000,
  PricingRerates1732000812000,
  UsageCorrections1732000858000,
  UsageCorrectionsFunctions1732000858100,
  UsageCorrectionsRollup1732000858200,
  OccurredAtOfHandWrittenRecords1732000859200,
  OccurredAtTrigger1732000859300,
  Features1732000860000,
  Features1732000861000,
  CorrectionsExport1732000862000,
  UsageRecordsCorrect1732000863000,
  AutoRechargeEventsAccount1732000910000,
  CreditLedgerDays1732000930000,
  RerateChunkCorrections1732000940000,
  PricingRerateLanes1732000960000,
  RerateEventsAtOnce1732000960010,
  TakeSingleShape1732000980000,
  PlanModelLists1732001010000,
  EventsSkipDeletedEndpoints1732001011000,
  DropCreditAccountOf1732001050000,
  UsageReviewResolutions1732001060000,
  ReviewResolutionsRecorded1732001070000,
  ErasureByAccount1732001100000,
  PortalSessionsUserIndex1732001100100,
  ErasureRollupsAndTransferLots1732001100200,
  AuditEraseIndexConditions1732001100300,
  UsageRollupForgetRecordsOnly1732001100400,
  EntitlementEventConsume1732001300000,
  EntitlementEventReused1732001301000,
  PricingRuleMaxOutputTokens1732001500000,
  SessionRecordExtras1732001510000,
  SubscriptionSchedules1732001600000,
  PlanLotsExpireNow1732001610000,
  PlanLotsEndAtTheChange1732001620000,
  UsageRecordsErase1732001621000,
  RunwayAlerts1732001700000,
  Budgets1732001800000,
  BudgetCaps1732001801000,
  BudgetReachedEmail1732001820000,
  VolumeSteps1732001850000,
  TakeEventsBeforeVolumeSteps1732001850500,
  VolumeStepsFunctions1732001851000,
  VolumeStepsWithBudgets1732001851500,
  RecordWithoutClaim1732001910000,
  CorrectionsOneShape1732002000000,
  UsageRecordNet1732002001000,
  OneEmitter1732002050000,
  BudgetChainByKey1732002100000,
  VolumeMoney1732002200000,
  VolumeStepsSettlements1732002201000,
  AccountCarried1732002400000,
  RecordAccountRead1732002401000,
  TakeAnswerPlannedOnce1732002600000,
  UsageRecordsReviewIdxDropped1732002610000,
  VolumeWalk1732003000000,
  VolumeTail1732003300000,
  SubscriptionAccount1732003400000,
  BudgetChainWalkedInCaps1732003700000,
  BudgetChainParentReadOnce1732003710000,
  BudgetChainWalkedOnce1732003800000,
  BudgetCountersByKey1732003810000,
  ErasureDownKeepsJsonEraseFirst1732004000000,
  BudgetSpendOnItsRow1732004100000,
  BudgetSpendFunctions1732004110000,
  HoldRowPlannedOnce1732004300000,
  BatchTakePlannedOnce1732004310000,
  BudgetTakeLeastRoom1732004400000,
  BudgetCapsFewerSteps1732004410000,
  BudgetSettingsCheck1732004420000,
  BudgetSettingsByTrigger1732004430000,
  BudgetCapsOneRow1732004440000,
  BatchTakePlansWithBudgetLeastRoom1732004600000,
  BudgetCapsByEventAccounts1732004750000,
  ShorterHotChecks1732004800000,
  GiveBackSumsInLoop1732004810000,
  CountsChecks1732004900000,
  RecordsOfManyWriters1732005000000,
  RerateRequestAccount1732005100000,
  HoldsTogether1732005200000,
  BudgetCapsOneStatement1732005400000,
  PricingRuleContextWindow1732005500000,
  VolumeCorrectionsLowerTotals1732005600000,
  BudgetIdsPerAccount1732005610000,
  ErasureWholeWords1732005700000,
  PriceCatalogue1732005800000,
  HoldsScopedByAccount1732006000000,
  ErasureOwnRowsOnly1732006001000,
  MultiCurrencyPrices1732006200000,
  FinanceFxRates1732006300000,
  VolumeTotalsChargedCredits1732006500000,
  VolumeRoundsPerRequest1732006510000,
  MoneyInMinorPlaces1732006600000,
  EventIdsOfManyWriters1732006700000,
  TakeSteps1732006900000,
  TakeStepsColumns1732006910000,
  TakeStepsExpressions1732006920000,
  SettleMany1732007100000,
  UsageKeysClaim1732007200000,
  CorrectionThroughTheEngine1732007500000,
  AccountPricesAccount1732007600000,
  AccountReads1732007800000,
  PayerTies1732008000000,
  UnclaimedOneLookup1732008200000,
  KeysClaimedTogether1732008201000,
  TakeChecksWithoutAQuery1732008202000,
  SettlementsTogether1732008203000,
  SettlementsLinesOnce1732008204000,
  LoneSettlementLocksOnce1732008205000,
  WriteChecks1732008206000,
  WriteChecksByTrigger1732008207000,
  OneCheckRefusal1732008208000,
  LoneTakeLockAndLots1732008209000,
  SettleLockByKey1732008210000,
  OneAccountLockByKey1732008211000,
  OneAccountLockThroughTheSet1732008212000,
  LoneTakeOneLine1732008213000,
  KeyTablesUpkeep1732008214000,
  TakeWriteOneCall1732008215000,
  LoneHoldOneLine1732008216000,
];
