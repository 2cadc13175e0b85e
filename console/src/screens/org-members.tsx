import { Button, Group, NumberInput, Select, Switch, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';

import type { MemberResponseDto, SpendLimitDto } from '../api/generated';
import {
  listOrgMembersInfiniteOptions,
  putOrgMemberMutation,
  removeOrgMemberMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { ActionDialog } from '../components/action-dialog';
import { cursorPaging, DataTable, pagesOf } from '../components/data-table';
import { LoadMore } from '../components/load-more';
import { credits, utc } from '../lib/format';
import { useCommandDialog } from '../lib/idempotency';
import { affected, useInvalidate } from '../lib/invalidate';

type Role = MemberResponseDto['role'];
type Period = SpendLimitDto['period'];
const ROLES: Role[] = ['owner', 'admin', 'billing', 'member'];
const PERIODS: Period[] = ['day', 'week', 'month'];

/** "1,000 / day", or "none" without a limit of their own. */
export function limitText(limit: SpendLimitDto | null): string {
  return limit ? `${credits(limit.credits)} / ${limit.period}` : 'none';
}

/** An org's members: role, limit, what they spent in its period; editing a member's role and limit. */
export function OrgMembers({ orgId }: { orgId: string }) {
  const invalidate = useInvalidate();
  const [showRemoved, setShowRemoved] = useState(false);
  const members = useInfiniteQuery({
    ...listOrgMembersInfiniteOptions({ path: { orgId }, query: showRemoved ? { includeRemoved: true } : {} }),
    ...cursorPaging,
  });
  const rows = pagesOf(members.data);

  const [userId, setUserId] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [limit, setLimit] = useState<string | number>('');
  const [period, setPeriod] = useState<Period>('month');
  const put = useMutation({
    ...putOrgMemberMutation(),
    onSuccess: (member) => {
      editing.close();
      void invalidate(affected.member(orgId, member.userId));
    },
  });
  // Each opening starts from the member's values now in force ('new': adding a member).
  const editing = useCommandDialog<MemberResponseDto | 'new'>((subject) => {
    put.reset();
    const current = subject === 'new' ? null : subject;
    setUserId(current?.userId ?? '');
    setRole(current?.role ?? 'member');
    setLimit(current?.spendLimit?.credits ?? '');
    setPeriod(current?.spendLimit?.period ?? 'month');
  });
  const remove = useMutation({
    ...removeOrgMemberMutation(),
    onSuccess: (member) => {
      removing.close();
      void invalidate(affected.member(orgId, member.userId));
    },
  });
  const removing = useCommandDialog<MemberResponseDto>(() => remove.reset());
  const member = editing.subject === 'new' ? null : editing.subject;
  const leaving = removing.subject;

  return (
    <>
      <Group justify="space-between" mb="sm">
        <Switch
          label="Show removed members"
          checked={showRemoved}
          onChange={(e) => setShowRemoved(e.currentTarget.checked)}
        />
        <Button variant="light" onClick={() => editing.open('new')}>
          Add member
        </Button>
      </Group>
      <DataTable<MemberResponseDto>
        label="Members"
        rows={rows}
        rowKey={(row) => row.userId}
        columns={[
          {
            label: 'Member',
            render: (row) => (
              <Link to="/users/$userId" params={{ userId: row.userId }}>
                {row.userId}
              </Link>
            ),
          },
          { label: 'Role', render: (row) => row.role },
          { label: 'Limit', render: (row) => limitText(row.spendLimit) },
          { label: 'Spent in period', render: (row) => credits(row.spentInPeriod), numeric: true },
          { label: 'Period resets (UTC)', render: (row) => utc(row.periodResetsAt) },
          {
            label: 'Can spend now',
            render: (row) => `${credits(row.availableCredits)}${row.removedAt ? '' : ` (${row.binding})`}`,
            numeric: true,
          },
          { label: 'Joined (UTC)', render: (row) => utc(row.joinedAt) },
          {
            label: 'Actions',
            render: (row) =>
              row.removedAt ? (
                <Text size="xs" c="dimmed">
                  removed {utc(row.removedAt)}
                </Text>
              ) : (
                <Group gap="xs" wrap="nowrap">
                  <Button size="xs" variant="light" onClick={() => editing.open(row)}>
                    Edit
                  </Button>
                  <Button size="xs" variant="light" color="red" onClick={() => removing.open(row)}>
                    Remove
                  </Button>
                </Group>
              ),
          },
        ]}
      />
      <LoadMore {...members} empty={members.isSuccess && rows.length === 0} />
      <ActionDialog
        title={member ? `Member ${member.userId} of ${orgId}` : `Add a member to ${orgId}`}
        dialog={editing}
        submitLabel={member ? 'Save member' : 'Add member'}
        size="lg"
        pending={put.isPending}
        error={put.error}
        onSubmit={() =>
          put.mutate({
            path: { orgId, userId: member?.userId ?? userId.trim() },
            body: { role, spendLimit: limit === '' ? null : { credits: Number(limit), period } },
            headers: editing.headers,
          })
        }
      >
        {!member && (
          <TextInput
            label="User id"
            value={userId}
            onChange={(e) => setUserId(e.currentTarget.value)}
            maxLength={50}
            required
            data-autofocus
          />
        )}
        <Select
          label="Role"
          data={ROLES}
          value={role}
          onChange={(value) => value && setRole(value as Role)}
          allowDeselect={false}
        />
        <NumberInput
          label="Spend limit (credits)"
          description="Empty: no limit of their own"
          value={limit}
          onChange={setLimit}
          min={0}
          allowDecimal={false}
          allowNegative={false}
          data-autofocus={member ? true : undefined}
        />
        <Select
          label="Limit period (UTC)"
          data={PERIODS}
          value={period}
          onChange={(value) => value && setPeriod(value as Period)}
          allowDeselect={false}
          disabled={limit === ''}
        />
        {member?.spentInPeriod != null && (
          <Text size="xs" c="dimmed">
            Changing the limit keeps what was spent in the current period ({credits(member.spentInPeriod)} so far).
          </Text>
        )}
      </ActionDialog>
      <ActionDialog
        title={`Remove ${leaving?.userId ?? ''} from ${orgId}`}
        dialog={removing}
        submitLabel="Remove member"
        size="lg"
        color="red"
        pending={remove.isPending}
        error={remove.error}
        onSubmit={() =>
          leaving && remove.mutate({ path: { orgId, userId: leaving.userId }, headers: removing.headers })
        }
      >
        <Text>
          They can no longer spend from {orgId}; their open sessions on it settle normally. Records and ledger entries
          keep their id, and any debt stays with the org.
        </Text>
      </ActionDialog>
    </>
  );
}
