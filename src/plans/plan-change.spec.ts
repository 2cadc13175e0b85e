import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ceilShare, type ChangeInput, ChangeRefused, planChange, type PlanTerms } from './plan-change.js';

const HOUR = 3_600_000;
const T0 = new Date('2027-03-01T12:00:00.000Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);
const plan = (id: string, credits: number, rolloverCap = 0): PlanTerms => ({ id, credits, period: 'day', rolloverCap });
const free = plan('free', 100);
const pro = plan('pro', 5000, 300);

function input(overrides: Partial<ChangeInput> & Pick<ChangeInput, 'plan'>): ChangeInput {
  return {
    now: at(7),
    options: { timing: 'now', allowance: 'difference', anchor: 'keep', startsAt: null },
    live: { startsAt: T0, nextGrantAt: at(24), plan: free },
    keptAnchor: T0,
    lots: [
      { id: 'free-lot', source: 'plan', totalCredits: 100, credits: 60, expiresAt: at(24) },
      { id: 'bought', source: 'purchase', totalCredits: 500, credits: 500, expiresAt: at(24 * 30) },
    ],
    ...overrides,
  };
}

describe('planChange', () => {
  it('ceilShare is exact in integers: ceil(n × num / den) for any sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2_147_483_647 }),
        fc.bigInt({ min: 1n, max: 10n ** 13n }),
        fc.bigInt({ min: 1n, max: 10n ** 13n }),
        (n, a, b) => {
          const [num, den] = a <= b ? [a, b] : [b, a];
          const share = BigInt(ceilShare(n, num, den));
          expect(share * den >= BigInt(n) * num).toBe(true);
          expect((share - 1n) * den < BigInt(n) * num).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('prorated: ceil((new − old) × the period left), never more than the difference', () => {
    const change = planChange(
      input({ plan: pro, options: { ...input({ plan: pro }).options, allowance: 'prorated' } }),
    );
    expect(change.creditsGrantedNow).toBe(3471); // ceil(4,900 × 17/24)
    const lots = [{ id: 'pro-lot', source: 'plan', totalCredits: 5000, credits: 10, expiresAt: at(24) }];
    const back = planChange(
      input({ plan: pro, lots, options: { ...input({ plan: pro }).options, allowance: 'prorated' } }),
    );
    expect(back.creditsGrantedNow).toBe(0);
  });

  it('full + restart: a new period now, the old plan lots end whole, nothing rolls over', () => {
    const change = planChange(
      input({
        plan: free,
        live: { startsAt: T0, nextGrantAt: at(24), plan: pro },
        lots: [
          { id: 'pro-lot', source: 'plan', totalCredits: 5000, credits: 1200, expiresAt: at(24) },
          { id: 'rolled', source: 'rollover', totalCredits: 40, credits: 40, expiresAt: at(24) },
        ],
        options: { timing: 'now', allowance: 'full', anchor: 'restart', startsAt: null },
      }),
    );
    expect(change.steps).toMatchObject({
      kind: 'replace',
      anchor: at(7),
      grant: 100,
      expire: ['pro-lot'],
    });
    expect(change.steps).not.toHaveProperty('rollover');
    expect(change.lots.map((l) => l.id)).toEqual(['rolled']);
    expect([change.currentPeriodStart, change.currentPeriodEnd]).toEqual([at(7), at(31)]);
  });

  it('period_end: nothing now, the change at the period’s end; refusals by reason', () => {
    const change = planChange(input({ plan: pro, options: { ...input({ plan: pro }).options, timing: 'period_end' } }));
    expect(change).toMatchObject({ creditsGrantedNow: 0, effectiveAt: at(24), nextGrantAt: at(24) });
    expect(change.lots.map((l) => l.id)).toEqual(['free-lot', 'bought']);
    const refused = (overrides: Partial<ChangeInput>) => {
      try {
        planChange(input({ plan: pro, ...overrides }));
        return null;
      } catch (e) {
        return (e as ChangeRefused).reason;
      }
    };
    const options = input({ plan: pro }).options;
    expect(refused({ options: { ...options, allowance: 'full' } })).toBe('full_needs_restart');
    expect(refused({ options: { ...options, timing: 'period_end', startsAt: at(30) } })).toBe('starts_at_conflict');
    expect(refused({ live: null, options: { ...options, timing: 'period_end' } })).toBe('no_period');
  });
});
