import { describe, expect, it } from 'vitest';

import { DOMAIN_ERROR_STATUS, DomainError, type DomainErrorCode } from '../../common/errors/domain-error.js';
import { doesNotApply, EVENT_DOES_NOT_APPLY } from './stripe-webhook.service.js';

/**
 * Which refusals make a Stripe event "ignored" (answered 200, never retried): a list of codes. A
 * refusal of another code propagates, whatever its status, so Stripe retries the event.
 */
describe('the Stripe webhook’s refusals that mean an event does not apply', () => {
  const codes = Object.keys(DOMAIN_ERROR_STATUS) as DomainErrorCode[];

  it('are the purchase states an event cannot change, and a purchase that is not there', () => {
    for (const code of EVENT_DOES_NOT_APPLY) expect(doesNotApply(new DomainError(code, 'x'))).toBe(true);
    expect(doesNotApply(new DomainError('PURCHASE_NOT_PAYABLE', 'A expired purchase cannot be paid'))).toBe(true);
  });

  it('leave out every other code, 400, 404 and 409 ones included', () => {
    const others = codes.filter((code) => !EVENT_DOES_NOT_APPLY.has(code));
    expect(others).toEqual(
      expect.arrayContaining(['IDEMPOTENCY_IN_FLIGHT', 'DATABASE_UNAVAILABLE', 'OUTCOME_UNKNOWN']),
    );
    expect(others.filter((code) => [400, 404, 409].includes(DOMAIN_ERROR_STATUS[code])).length).toBeGreaterThan(5);
    for (const code of others) expect(doesNotApply(new DomainError(code, 'x')), code).toBe(false);
  });

  it('leave out errors that are not refusals', () => {
    expect(doesNotApply(new Error('connection terminated'))).toBe(false);
    expect(doesNotApply(Object.assign(new Error('conflict'), { status: 409 }))).toBe(false);
  });
});
