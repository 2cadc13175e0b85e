/** What the credits module hands out: plain views, never rows or entities. */
export type LedgerKind = 'grant' | 'debit' | 'hold' | 'release' | 'expire' | 'void';

/** Who and what a ledger entry points at. */
export interface LedgerRefs {
  createdBy: string;
  usageRecordId?: string | null;
  sessionId?: string | null;
}

export interface AllocationView {
  id: string;
  userId: string;
  totalCredits: number;
  remainingCredits: number;
  allocatedBy: string;
  allocatedAt: string;
  expiresAt: string;
  notes: string | null;
}

export interface LedgerEntryView {
  id: string;
  userId: string;
  allocationId: string;
  kind: LedgerKind;
  amount: number;
  balanceAfter: number;
  sessionId: string | null;
  usageRecordId: string | null;
  createdBy: string;
  createdAt: string;
}

export interface BalanceView {
  userId: string;
  totalCredits: number;
  heldCredits: number;
  activeAllocations: {
    id: string;
    credits: number;
    totalCredits: number;
    expiresAt: string;
    allocatedAt: string;
    notes: string | null;
  }[];
}

export interface ReconcileMismatch {
  problem: 'remaining_mismatch' | 'negative_remaining' | 'grant_mismatch' | 'hold_mismatch';
  userId: string;
  allocationId: string | null;
  sessionId: string | null;
  expected: number;
  actual: number;
}

/** How much of a take came from each allocation. */
export interface TakePart {
  allocationId: string;
  amount: number;
}
