import { ACCOUNT_ERASED_CONFLICT, domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';

/** The OpenAPI examples and refusals a subscription PUT and its preview share, a user's and an org's. */
export const CHANGE_EXAMPLES = {
  now: { summary: 'Subscribe now: the first period is granted at once', value: { planId: 'pro' } },
  later: {
    summary: 'Periods anchored at a future start (the same plan again changes nothing)',
    value: { planId: 'pro', startsAt: '2099-01-01T00:00:00.000Z' },
  },
  prorated: {
    summary: 'Upgrade now, granting the difference by the fraction of the period left',
    value: { planId: 'pro', allowance: 'prorated' },
  },
  restart: {
    summary: 'Upgrade with a new period: the full allowance, the old period’s plan credits expiring',
    value: { planId: 'pro', allowance: 'full', anchor: 'restart' },
  },
  periodEnd: {
    summary: 'Downgrade at the end of the period in progress (scheduled; nothing moves now)',
    value: { planId: 'free', timing: 'period_end' },
  },
};

export const CHANGE_REFUSALS = {
  description:
    'Invalid body; `allowance: "full"` without `anchor: "restart"`; `startsAt` with another timing or anchor',
  type: ErrorResponseDto,
  examples: {
    fullKeep: domainErrorExample('VALIDATION', 'allowance full requires anchor restart', 'full with anchor keep'),
  },
};

export const CHANGE_CONFLICTS = {
  description:
    'The plan is deactivated; or `timing: "period_end"` without a period in progress; or the account’s person ' +
    'was erased (`code` ACCOUNT_ERASED)',
  type: ErrorResponseDto,
  examples: {
    inactive: domainErrorExample('PLAN_INACTIVE', 'Plan pro is not active', 'A deactivated plan'),
    noPeriod: domainErrorExample(
      'NO_PERIOD_IN_PROGRESS',
      'timing period_end needs a live subscription whose period has started',
      'Nothing to schedule at a period’s end',
    ),
    ...ACCOUNT_ERASED_CONFLICT.examples,
  },
};
