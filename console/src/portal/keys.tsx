import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useRef, useState } from 'react';

import {
  createApiKeyMutation,
  listApiKeysOptions,
  listApiKeysQueryKey,
  revokeApiKeyMutation,
} from '../api/generated/@tanstack/react-query.gen';
import type { ApiKeyResponseDto, CreateApiKeyDto } from '../api/generated/types.gen';
import { useCommandDialog } from '../lib/idempotency';
import type { PortalSession } from './account';
import { credits, date } from './format';
import { Failed, Loading, messageOf } from './status';

type Scope = NonNullable<CreateApiKeyDto['permissions']>[number];
/**
 * Every scope the form may offer, in its order, each with its words. It offers only those the session
 * says a key made here can use (`keyScopes`: recording usage only where users may meter themselves,
 * `gateway` when the gateway is on), never one whose every use would answer 403.
 */
const SCOPES: Array<[Scope, string]> = [
  ['credits:read', 'Read credits'],
  ['usage:read', 'Read usage'],
  ['usage:write', 'Record usage'],
  ['sessions:read', 'Read sessions'],
  ['sessions:write', 'Open and settle sessions'],
  ['pricing:read', 'Read prices'],
  ['gateway', 'Call AI models through the gateway (spends your credits)'],
];
const PERIODS = ['day', 'week', 'month', 'total'] as const;

export function KeysTab({ session }: { session: PortalSession }) {
  const queryClient = useQueryClient();
  const keys = useQuery(listApiKeysOptions());
  // The keys of this page's account: the user's own, or those of the session's org.
  const rows = (keys.data?.items ?? []).filter((k) => k.isActive && k.orgId === session.orgId);
  const refresh = () => queryClient.invalidateQueries({ queryKey: listApiKeysQueryKey() });

  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['credits:read', 'usage:read']);
  const [limit, setLimit] = useState('');
  const [period, setPeriod] = useState<(typeof PERIODS)[number]>('month');
  const [secret, setSecret] = useState<{ name: string; key: string } | null>(null);
  const creating = useCommandDialog();
  const create = useMutation({
    ...createApiKeyMutation(),
    onSuccess: (created) => {
      setSecret({ name: created.name, key: created.key ?? '' });
      setName('');
      setLimit('');
      creating.open(true);
      void refresh();
    },
  });

  const dialog = useRef<HTMLDialogElement>(null);
  const revoking = useCommandDialog<ApiKeyResponseDto>();
  const revoke = useMutation({
    ...revokeApiKeyMutation(),
    onSuccess: () => {
      dialog.current?.close();
      void refresh();
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!creating.opened) creating.open(true);
    const budget = limit.trim() === '' ? {} : { creditLimit: Number(limit), limitPeriod: period };
    create.mutate({
      body: { name: name.trim(), permissions: scopes, ...budget, ...(session.orgId ? { orgId: session.orgId } : {}) },
      headers: creating.opened ? creating.headers : { 'Idempotency-Key': crypto.randomUUID() },
    });
  };

  return (
    <>
      <h2>API keys</h2>
      {secret && (
        <div className="secret" role="status" aria-live="polite">
          <p>
            <strong>Copy the key “{secret.name}” now:</strong> it is shown only once.
          </p>
          <code data-testid="new-key">{secret.key}</code>
          <p className="actions">
            <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(secret.key)}>
              Copy
            </button>
            <button type="button" className="secondary" onClick={() => setSecret(null)}>
              Done
            </button>
          </p>
        </div>
      )}
      <form className="new-key" onSubmit={submit} aria-labelledby="new-key-heading">
        <h3 id="new-key-heading">New key</h3>
        <label>
          Name
          <input required maxLength={100} value={name} onChange={(e) => setName(e.currentTarget.value)} />
        </label>
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.filter(([scope]) => session.keyScopes.includes(scope)).map(([scope, label]) => (
            <label key={scope} className="check">
              <input
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(e) =>
                  setScopes(e.currentTarget.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))
                }
              />
              <span>
                {label} <code>{scope}</code>
              </span>
            </label>
          ))}
        </fieldset>
        <div className="row">
          <label>
            Budget in credits (optional)
            <input
              type="number"
              min={1}
              step={1}
              inputMode="numeric"
              value={limit}
              onChange={(e) => setLimit(e.currentTarget.value)}
            />
          </label>
          <label>
            Per
            <select value={period} onChange={(e) => setPeriod(e.currentTarget.value as typeof period)}>
              {PERIODS.map((p) => (
                <option key={p} value={p}>
                  {p === 'total' ? 'in total' : p}
                </option>
              ))}
            </select>
          </label>
        </div>
        {create.isError && <p role="alert">{messageOf(create.error)}</p>}
        <p className="actions">
          <button type="submit" disabled={create.isPending}>
            Create key
          </button>
        </p>
      </form>
      <h3>Your keys</h3>
      {keys.isError ? (
        <Failed what="the keys" />
      ) : keys.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">No active keys.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="API keys" tabIndex={0}>
          <table className="stacked">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Scopes</th>
                <th scope="col">Budget</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((k) => (
                <tr key={k.id}>
                  <Cell label="Name">{k.name}</Cell>
                  <Cell label="Key">
                    <code>{k.prefix}…</code>
                  </Cell>
                  <Cell label="Scopes">{k.permissions.join(', ')}</Cell>
                  <Cell label="Budget">
                    {k.creditLimit === null
                      ? 'None'
                      : `${credits(k.spentInPeriod ?? 0)} of ${credits(k.creditLimit)} ${k.limitPeriod === 'total' ? 'in total' : `per ${k.limitPeriod}`}`}
                  </Cell>
                  <Cell label="Created">{date(k.createdAt)}</Cell>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Revoke ${k.name}`}
                      onClick={() => {
                        revoking.open(k);
                        revoke.reset();
                        dialog.current?.showModal();
                      }}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <dialog ref={dialog} aria-labelledby="revoke-heading" onClose={() => revoking.close()}>
        <h3 id="revoke-heading">Revoke “{revoking.subject?.name}”?</h3>
        <p>Programs using this key stop working at once. This cannot be undone.</p>
        {revoke.isError && <p role="alert">{messageOf(revoke.error)}</p>}
        <p className="actions">
          <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button
            type="button"
            className="danger"
            disabled={revoke.isPending}
            onClick={() => revoking.subject && revoke.mutate({ path: { id: revoking.subject.id } })}
          >
            Revoke key
          </button>
        </p>
      </dialog>
    </>
  );
}

/**
 * A cell of a table that becomes a card per row at a phone's width (`table.stacked`): the column's
 * name shown beside the figure there, hidden from screen readers, which have the column heading.
 */
export function Cell({ label, children }: { label: string; children: ReactNode }) {
  return (
    <td>
      <span className="cell-label" aria-hidden="true">
        {label}
      </span>
      <span>{children}</span>
    </td>
  );
}
