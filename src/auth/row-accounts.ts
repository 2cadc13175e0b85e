import type { Provider, Type } from '@nestjs/common';

import type { ResolvedAccount } from './account-access.js';

/** The rows a route may name by the path's `id` for the access guard to find their account (AuthRule `row`). */
export type AccountRow = 'usage-record' | 'purchase';

/**
 * A row's owning module reads the account one of its rows belongs to, by the row's id, as the row names
 * it (its kind and owner; null: no such row). Auth imports no feature: the composition root hands each
 * owner's lookup to ROW_ACCOUNTS (`rowAccounts()`).
 */
export interface RowAccountReader {
  accountOfRow(id: string): Promise<Pick<ResolvedAccount, 'kind' | 'ownerId'> | null>;
}

/** Each row's lookup, by the row it reads. */
export type RowAccountReaders = Record<AccountRow, RowAccountReader>;
export const ROW_ACCOUNTS = Symbol('ROW_ACCOUNTS');

/**
 * ROW_ACCOUNTS for the composition root: `owners` names, for each row, the provider of the module that
 * owns it (exported by a module the root imports) that reads its account.
 */
export function rowAccounts(owners: Record<AccountRow, Type<RowAccountReader>>): Provider {
  const rows = Object.keys(owners) as AccountRow[];
  return {
    provide: ROW_ACCOUNTS,
    useFactory: (...lookups: RowAccountReader[]): RowAccountReaders =>
      Object.fromEntries(rows.map((row, i) => [row, lookups[i]])) as RowAccountReaders,
    inject: rows.map((row) => owners[row]),
  };
}
