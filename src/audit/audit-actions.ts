/**
 * Every action the audit log records (docs/audit.md "Actions"), with the type of object it targets.
 * `pricing.import` is written by the pricing import route; `usage.record` is a usage record itself
 * (credits named by a service principal for another account: metering is its own audit trail), its
 * target the account charged (`user` or `org`; entries written before it: `usage_record`);
 * `session.abort` when a session is aborted by another credential than the one that opened it.
 */
export const AUDIT_ACTIONS = {
  'credits.allocate': 'allocation',
  'credits.void': 'allocation',
  'credits.transfer': 'credit_transfer',
  'credits.limits.set': 'user',
  'credits.alerts.set': 'user',
  'usage.resolve': 'usage_record',
  'usage.correct': 'usage_record',
  'usage.record': 'user',
  'pricing.create': 'pricing_rule',
  'pricing.import': 'pricing_import',
  'pricing.catalog.import': 'pricing_import',
  'pricing.account.create': 'account_price',
  'pricing.account.delete': 'account_price',
  'pricing.rerate': 'pricing_rerate',
  'org.models.set': 'org',
  'plan.create': 'plan',
  'plan.update': 'plan',
  'subscription.set': 'user',
  'subscription.delete': 'user',
  'user.erase': 'user',
  'api_key.create': 'api_key',
  'api_key.update': 'api_key',
  'api_key.revoke': 'api_key',
  'webhook.create': 'webhook',
  'webhook.update': 'webhook',
  'webhook.delete': 'webhook',
  'webhook.rotate_secret': 'webhook',
  'webhook.retry': 'webhook_delivery',
  'session.abort': 'streaming_session',
  'purchase.create': 'purchase',
  'purchase.paid': 'purchase',
  'purchase.fail': 'purchase',
  'purchase.expire': 'purchase',
  'purchase.refund': 'purchase',
  'purchase.provider_event': 'purchase',
  'package.create': 'package',
  'package.update': 'package',
  'promotion.create': 'promotion',
  'promotion.update': 'promotion',
  'finance.reconciliation.create': 'reconciliation',
  'finance.fx_rates': 'fx_rates',
  'export.run': 'export_run',
  'auto_recharge.set': 'account',
  'account.billing_currency': 'account',
  'auto_recharge.fail': 'auto_recharge_attempt',
  'org.create': 'org',
  'org.member.set': 'org',
  'org.member.remove': 'org',
  'org.limits.set': 'org',
  'portal.session.create': 'portal_session',
  'feature.create': 'feature',
  'feature.update': 'feature',
  'entitlement.set': 'user',
  'budget.create': 'budget',
  'budget.update': 'budget',
  'budget.delete': 'budget',
} as const;

/**
 * Actions on an account's money settings or plan whose target is an organisation when the account is
 * one (`target.type` `org`, the org id): docs/orgs.md "Audit".
 */
export const ACCOUNT_TARGETS = ['user', 'org'] as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;
export type AuditTargetType = (typeof AUDIT_ACTIONS)[AuditAction];

export const AUDIT_ACTION_NAMES = Object.keys(AUDIT_ACTIONS) as AuditAction[];
export const AUDIT_TARGET_TYPES = [...new Set(Object.values(AUDIT_ACTIONS))] as AuditTargetType[];

/** Keys that never reach an entry, wherever they appear in `before`/`after` (secrets, key material). */
export const SECRET_KEYS = new Set(['secret', 'secretEncrypted', 'key', 'keyHash', 'hash', 'plaintext']);

/** What stands in an entry for a value taken out of a URL. */
export const REDACTED = 'REDACTED';

/**
 * A URL as an entry may show it: the values of its query parameters, its user info and its fragment
 * replaced (`?token=…`, `https://user:pw@…`: secrets that receivers put in webhook URLs).
 * The scheme, host, port, path and parameter names stay, enough to tell which endpoint changed.
 * Text that is not an http(s) URL is returned as it is.
 */
export function redactUrl(text: string): string {
  if (!/^https?:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (!url.search && !url.username && !url.password && !url.hash) return text;
  if (url.username) url.username = REDACTED;
  if (url.password) url.password = REDACTED;
  if (url.hash) url.hash = REDACTED;
  const names = [...url.searchParams.keys()];
  url.search = '';
  for (const name of names) url.searchParams.append(name, REDACTED);
  return url.toString();
}

/** A copy of `value` as JSON with every secret key removed, and URLs redacted, at any depth. */
export function withoutSecrets(value: unknown): unknown {
  // Scalars first: most of an entry (every metered record an admin names has one) is ids and numbers.
  if (typeof value !== 'object' || value === null) return typeof value === 'string' ? redactUrl(value) : value;
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined && !SECRET_KEYS.has(k)) out[k] = withoutSecrets(v);
  }
  return out;
}
