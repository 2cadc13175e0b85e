import { Alert, Badge, Stack, Text } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';

import { listBudgetsInfiniteOptions } from '../api/generated/@tanstack/react-query.gen';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { type Account, accountRef } from '../lib/account';
import { credits, errorMessage, utc } from '../lib/format';
import { EditBudget, NewBudget } from './account-budget-form';

/**
 * An account's budgets by scope (`GET /api/budgets`): each scope's limit, what it used this period
 * and holds, what a write may still take (the least of its chain's room), its period and when it
 * restarts (UTC), and whether it expired; New budget makes one and each row's Edit changes its limit
 * and expiry (account-budget-form.tsx).
 */
export function AccountBudgets({ account }: { account: Account }) {
  const budgets = useInfiniteQuery({
    ...listBudgetsInfiniteOptions({ query: accountRef(account) }),
    ...cursorPaging,
  });
  const items = pagesOf(budgets.data);
  return (
    <Stack>
      <NewBudget account={account} />
      {budgets.isError && (
        <Alert color="red" role="alert">
          {errorMessage(budgets.error)}
        </Alert>
      )}
      <DataTable
        label="Budgets"
        rows={items}
        rowKey={(row) => row.budgetId}
        columns={[
          {
            label: 'Budget',
            render: (row) => (
              <>
                {row.budgetId}
                {row.parentBudgetId && (
                  <Text span size="xs" c="dimmed">
                    {' '}
                    under {row.parentBudgetId}
                  </Text>
                )}
              </>
            ),
          },
          { label: 'Scope', render: (row) => `${row.scope.kind} ${row.scope.id}` },
          { label: 'Limit', render: (row) => credits(row.limitCredits), numeric: true },
          { label: 'Used', render: (row) => credits(row.used), numeric: true },
          { label: 'Held', render: (row) => credits(row.held), numeric: true },
          { label: 'Remaining', render: (row) => credits(row.remaining), numeric: true },
          { label: 'Period', render: (row) => row.period },
          { label: 'Resets (UTC)', render: (row) => (row.resetsAt ? utc(row.resetsAt) : 'never') },
          {
            label: 'Expires (UTC)',
            render: (row) =>
              row.expired ? (
                <Badge variant="light" color="gray">
                  expired
                </Badge>
              ) : row.expiresAt ? (
                utc(row.expiresAt)
              ) : (
                'never'
              ),
          },
          { label: 'Change', render: (row) => <EditBudget budget={row} /> },
        ]}
      />
      <LoadMore {...budgets} empty={budgets.isSuccess && items.length === 0} />
    </Stack>
  );
}
