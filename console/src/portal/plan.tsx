import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import type { PlanResponseDto, SubscriptionPreviewResponseDto } from '../api/generated';
import {
  getOrgSubscriptionOptions,
  getSubscriptionOptions,
  listActivePlansOptions,
  previewOrgSubscriptionMutation,
  previewSubscriptionMutation,
} from '../api/generated/@tanstack/react-query.gen';
import type { PortalSession } from './account';
import { credits, dateTime, money } from './format';
import { Failed, Loading, messageOf } from './status';

type Timing = 'now' | 'period_end';

/**
 * The account's plan (`GET …/subscription` with the portal token): the plan, its period, the next
 * grant and a change scheduled for the period's end. Below it, what a change to another plan would
 * do (`POST …/subscription/preview`, which writes nothing). Changing the plan itself stays with the
 * platform's staff: the page only reads.
 */
export function PlanTab({ session }: { session: PortalSession }) {
  const orgId = session.orgId;
  const user = useQuery({ ...getSubscriptionOptions({ path: { userId: session.userId } }), enabled: orgId === null });
  const org = useQuery({ ...getOrgSubscriptionOptions({ path: { orgId: orgId ?? '' } }), enabled: orgId !== null });
  const plan = orgId === null ? user : org;
  // 404 is the API's "no live subscription": the account has no plan, which is no failure.
  const none = plan.isError && (plan.error as { statusCode?: unknown }).statusCode === 404;
  if (plan.isError && !none) return <Failed what="the plan" />;
  if (plan.isPending) return <Loading />;
  const current = plan.data;
  return (
    <>
      <h2>Plan</h2>
      {current ? (
        <dl className="facts" aria-label="Your plan">
          <dt>Plan</dt>
          <dd>{current.planId}</dd>
          <dt>This period</dt>
          <dd>
            {current.currentPeriodStart && current.currentPeriodEnd
              ? `${dateTime(current.currentPeriodStart)} – ${dateTime(current.currentPeriodEnd)}`
              : `Starts ${dateTime(current.startsAt)}`}
          </dd>
          <dt>Next credits</dt>
          <dd>{current.nextGrantAt ? dateTime(current.nextGrantAt) : 'None: the plan grants no more'}</dd>
          {current.scheduledChange && (
            <>
              <dt>Scheduled change</dt>
              <dd>
                To plan {current.scheduledChange.planId} from {dateTime(current.scheduledChange.effectiveAt)}
              </dd>
            </>
          )}
        </dl>
      ) : (
        <p className="muted">{orgId === null ? 'You have no plan.' : 'Your organisation has no plan.'}</p>
      )}
      <ChangePreview session={session} current={current?.planId ?? null} />
    </>
  );
}

/** A plan as its choice reads: its name, credits a period and price. */
function planLabel(p: PlanResponseDto, current: string | null): string {
  const price = p.price ? `, ${money(p.price.amount, p.price.currency)}` : '';
  return `${p.name}: ${credits(p.credits)} credits a ${p.period}${price}${p.id === current ? ' (your plan)' : ''}`;
}

/**
 * What a change to another plan would do now or at the period's end; nothing is changed. The plans
 * are the ones on offer (`GET /api/plans/active`, which a portal token reads), chosen from a list.
 */
function ChangePreview({ session, current }: { session: PortalSession; current: string | null }) {
  const plans = useQuery(listActivePlansOptions({ query: { limit: 200 } }));
  const [chosen, setChosen] = useState<string | null>(null);
  const [timing, setTiming] = useState<Timing>('now');
  const userPreview = useMutation(previewSubscriptionMutation());
  const orgPreview = useMutation(previewOrgSubscriptionMutation());
  const preview = session.orgId === null ? userPreview : orgPreview;
  const offered = plans.data?.items ?? [];
  // The first plan other than the account's own, until the person chooses.
  const planId = chosen ?? (offered.find((p) => p.id !== current) ?? offered[0])?.id ?? '';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = { planId, timing };
    if (session.orgId === null) userPreview.mutate({ path: { userId: session.userId }, body });
    else orgPreview.mutate({ path: { orgId: session.orgId }, body });
  };
  const reset = () => (userPreview.reset(), orgPreview.reset());
  let form;
  if (plans.isError) form = <Failed what="the plans" />;
  else if (plans.isPending) form = <Loading />;
  else if (offered.length === 0) form = <p className="muted">No plan is on offer.</p>;
  else
    form = (
      <form onSubmit={submit} aria-label="Preview a change of plan">
        <div className="row">
          <label>
            Plan
            <select value={planId} onChange={(e) => (setChosen(e.currentTarget.value), reset())}>
              {offered.map((p) => (
                <option key={p.id} value={p.id}>
                  {planLabel(p, current)}
                </option>
              ))}
            </select>
          </label>
          <label>
            When
            <select value={timing} onChange={(e) => (setTiming(e.currentTarget.value as Timing), reset())}>
              <option value="now">Now</option>
              <option value="period_end">At the end of this period</option>
            </select>
          </label>
        </div>
        <p className="actions">
          <button type="submit" disabled={preview.isPending || planId === ''}>
            Preview
          </button>
        </p>
      </form>
    );
  return (
    <>
      <h3>What a change of plan would do</h3>
      <p className="muted">
        See what moving to another plan would give before you ask for it. This changes nothing: your plan is changed by
        the service you use.
      </p>
      {form}
      {preview.isError && <p role="alert">{messageOf(preview.error)}</p>}
      {preview.data && <PreviewAnswer said={preview.data} />}
    </>
  );
}

function PreviewAnswer({ said }: { said: SubscriptionPreviewResponseDto }) {
  const kept = said.lots.reduce((n, l) => n + l.credits, 0);
  return (
    <section aria-label="Preview" className="preview">
      <dl className="facts">
        <dt>Plan</dt>
        <dd>{said.planId}</dd>
        <dt>Takes effect</dt>
        <dd>{dateTime(said.effectiveAt)}</dd>
        <dt>Credits now</dt>
        <dd>{credits(said.creditsGrantedNow)}</dd>
        <dt>Credits kept</dt>
        <dd>
          {credits(kept)} in {credits(said.lots.length)} {said.lots.length === 1 ? 'lot' : 'lots'}, each with its own
          expiry
        </dd>
        {said.currentPeriodStart && said.currentPeriodEnd && (
          <>
            <dt>Period</dt>
            <dd>
              {dateTime(said.currentPeriodStart)} – {dateTime(said.currentPeriodEnd)}
            </dd>
          </>
        )}
        <dt>Next credits</dt>
        <dd>{said.nextGrantAt ? dateTime(said.nextGrantAt) : 'None'}</dd>
      </dl>
    </section>
  );
}
