import { expect } from 'vitest';

import type { TestApp } from './app.js';
import { checkInvariants } from './invariants.js';

/**
 * Invariants 1–2 (docs/invariants.md) and reconcile for the given users. For specs that move credits through
 * CreditsService directly (no usage records), where invariant 3's bookkeeping does not apply.
 */
export async function expectCreditInvariants(t: Pick<TestApp, 'db' | 'http'>, users: string[]): Promise<void> {
  const { negativeOrOverspent, allocationMismatch, reconcile } = await checkInvariants(t, users);
  expect({ negativeOrOverspent, allocationMismatch, reconcile }).toEqual({
    negativeOrOverspent: [],
    allocationMismatch: [],
    reconcile: [],
  });
}
