import { Account } from './accounts/entities/account.entity.js';
import { Org } from './accounts/entities/org.entity.js';
import { OrgMember } from './accounts/entities/org-member.entity.js';
import { UserAccount } from './accounts/entities/user-account.entity.js';
import { ApiKey } from './api-keys/entities/api-key.entity.js';
import { AuditEntry } from './audit/entities/audit-entry.entity.js';
import { ENGINE_ENTITIES } from './engine/engine.module.js';
import { EventRecord } from './events/entities/event.entity.js';
import { WebhookDelivery } from './events/entities/webhook-delivery.entity.js';
import { WebhookEndpoint } from './events/entities/webhook-endpoint.entity.js';
import { ExportPart } from './exports/entities/export-part.entity.js';
import { ExportRun } from './exports/entities/export-run.entity.js';
import { Feature } from './features/entities/feature.entity.js';
import { FeatureOverride } from './features/entities/feature-override.entity.js';
import { Reconciliation } from './finance/entities/reconciliation.entity.js';
import { CreditLedgerDay } from './finance/feed/credit-ledger-day.entity.js';
import { CreditLedgerDaysFilled } from './finance/feed/credit-ledger-days-filled.entity.js';
import { FxRate } from './finance/fx/fx-rate.entity.js';
import { IdempotencyKey } from './idempotency/entities/idempotency-key.entity.js';
import { EmailNotification } from './notifications/entities/email-notification.entity.js';
import { NotificationPreference } from './notifications/entities/notification-preference.entity.js';
import { Plan } from './plans/entities/plan.entity.js';
import { Subscription } from './plans/entities/subscription.entity.js';
import { PortalSession } from './portal/entities/portal-session.entity.js';
import { AccountPrice } from './pricing/entities/account-price.entity.js';
import { PlanModelList } from './pricing/entities/plan-model-list.entity.js';
import { PriceCatalogPrice, PriceCatalogSet } from './pricing/entities/price-catalog.entity.js';
import { PricingRule } from './pricing/entities/pricing-rule.entity.js';
import { Promotion } from './promotions/entities/promotion.entity.js';
import { PromotionFailure } from './promotions/entities/promotion-failure.entity.js';
import { PromotionRedemption } from './promotions/entities/promotion-redemption.entity.js';
import { Package } from './purchases/entities/package.entity.js';
import { Purchase } from './purchases/entities/purchase.entity.js';
import { PurchaseProviderEvent } from './purchases/entities/purchase-provider-event.entity.js';
import { PurchaseRefund } from './purchases/entities/purchase-refund.entity.js';
import { PricingRerate } from './rerates/entities/pricing-rerate.entity.js';
import { PricingRerateLane } from './rerates/entities/pricing-rerate-lane.entity.js';
import { RunwayAlert } from './runway/entities/runway-alert.entity.js';
import { StreamingSession } from './streaming-sessions/entities/streaming-session.entity.js';
import { UsageCorrection } from './usage/entities/usage-correction.entity.js';
import { UsageDailyTotal } from './usage/entities/usage-daily-total.entity.js';
import { UsageDailyUser } from './usage/entities/usage-daily-user.entity.js';
import { UsageEventId } from './usage/entities/usage-event-id.entity.js';
import { UsageRecord } from './usage/entities/usage-record.entity.js';
import { UsageReviewResolution } from './usage/entities/usage-review-resolution.entity.js';

/** Every entity of the service. Each feature module adds its own here and in its forFeature(). */
export const ENTITIES = [
  UserAccount,
  Account,
  Org,
  OrgMember,
  ...ENGINE_ENTITIES,
  CreditLedgerDay,
  CreditLedgerDaysFilled,
  FxRate,
  PricingRule,
  PriceCatalogSet,
  PriceCatalogPrice,
  PortalSession,
  AccountPrice,
  PlanModelList,
  ApiKey,
  StreamingSession,
  UsageRecord,
  UsageCorrection,
  UsageReviewResolution,
  UsageDailyUser,
  UsageDailyTotal,
  UsageEventId,
  IdempotencyKey,
  Plan,
  Subscription,
  Feature,
  FeatureOverride,
  EventRecord,
  WebhookEndpoint,
  EmailNotification,
  NotificationPreference,
  WebhookDelivery,
  AuditEntry,
  Purchase,
  PurchaseRefund,
  PurchaseProviderEvent,
  Package,
  Promotion,
  PromotionRedemption,
  PromotionFailure,
  Reconciliation,
  ExportRun,
  ExportPart,
  PricingRerate,
  PricingRerateLane,
  RunwayAlert,
];
