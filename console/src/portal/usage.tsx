import { useInfiniteQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import {
  listOrgUsageRecordsInfiniteOptions,
  listUsageRecordsInfiniteOptions,
} from '../api/generated/@tanstack/react-query.gen';
import { exportUsageRecordsCsv, listOrgUsageRecords } from '../api/generated/sdk.gen';
import type { UsageRecordResponseDto } from '../api/generated/types.gen';
import { KINDS, TOKEN_KINDS, tokenField } from '../lib/token-kinds';
import type { PortalSession } from './account';
import { credits, shortDateTime } from './format';
import { cursorPaging, LoadMore, pagesOf } from './paging';
import { Failed, Loading } from './status';

interface Filters {
  startDate?: string;
  endDate?: string;
  service?: string;
  modelId?: string;
}

/** Token counts by kind (`in 1,500 · out 500 · cache read 200`), or the total when only that was given. */
function tokensOf(r: UsageRecordResponseDto): string[] {
  const parts = TOKEN_KINDS.flatMap((kind) => {
    const count = r[tokenField(kind)];
    return typeof count === 'number' && count > 0 ? [`${KINDS[kind].short} ${credits(count)}`] : [];
  });
  if (parts.length > 0) return parts;
  return [r.tokens == null ? '—' : `${credits(r.tokens)} tokens`];
}

/** The tier a record was priced at and its units (`tier flex · web_search_call × 3`), or null: neither. */
function dimensionsOf(r: UsageRecordResponseDto): string | null {
  const units = Object.entries(r.units ?? {}).map(([name, count]) => `${name} × ${credits(count)}`);
  const parts = [...(r.serviceTier ? [`tier ${r.serviceTier}`] : []), ...units];
  return parts.length === 0 ? null : parts.join(' · ');
}

export function UsageTab({ session }: { session: PortalSession }) {
  const [filters, setFilters] = useState<Filters>({});
  const [draft, setDraft] = useState<Filters>({});
  const [downloading, setDownloading] = useState(false);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const org = session.orgId;
  const userRecords = useInfiniteQuery({
    ...listUsageRecordsInfiniteOptions({ query: filters }),
    ...cursorPaging,
    enabled: org === null,
  });
  const orgRecords = useInfiniteQuery({
    ...listOrgUsageRecordsInfiniteOptions({ path: { orgId: org ?? '' }, query: filters }),
    ...cursorPaging,
    enabled: org !== null,
  });
  const records = org === null ? userRecords : orgRecords;
  const rows = pagesOf(records.data);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const clean = Object.fromEntries(Object.entries(draft).filter(([, v]) => v)) as Filters;
    setFilters(clean);
  };

  const download = async () => {
    setDownloading(true);
    setDownloadError(null);
    try {
      const { data } =
        org === null
          ? await exportUsageRecordsCsv({ query: filters, parseAs: 'blob', throwOnError: true })
          : await listOrgUsageRecords({
              path: { orgId: org },
              query: { ...filters, format: 'csv' },
              parseAs: 'blob',
              throwOnError: true,
            });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(data as unknown as Blob);
      link.download = 'usage.csv';
      document.body.append(link);
      link.click();
      link.remove();
      URL.revokeObjectURL(link.href);
    } catch {
      setDownloadError('The CSV could not be made; try again in a moment.');
    } finally {
      setDownloading(false);
    }
  };

  const field = (name: keyof Filters, label: string, type = 'text') => (
    <label>
      {label}
      <input
        type={type}
        name={name}
        value={draft[name] ?? ''}
        onChange={(e) => setDraft({ ...draft, [name]: e.currentTarget.value })}
      />
    </label>
  );

  return (
    <>
      <h2>Usage</h2>
      <form className="filters" onSubmit={apply} aria-label="Filter usage">
        {field('startDate', 'From (UTC day)', 'date')}
        {field('endDate', 'To (UTC day)', 'date')}
        {field('service', 'Service')}
        {field('modelId', 'Model')}
        <div className="actions">
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={() => void download()} disabled={downloading}>
            {downloading ? 'Preparing…' : 'Download CSV'}
          </button>
        </div>
      </form>
      {downloadError && <p role="alert">{downloadError}</p>}
      {records.isError ? (
        <Failed what="the usage" />
      ) : records.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">No usage matches.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Usage records" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col" className="num">
                  Credits
                </th>
                <th scope="col">Service</th>
                <th scope="col">Model</th>
                <th scope="col">Tokens and units</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td className="when">{shortDateTime(r.timestamp)}</td>
                  <td className="num">
                    {credits(r.netCredits)}
                    {r.corrections.length > 0 && (
                      <span className="sub">
                        {credits(r.credits)} charged,{' '}
                        {r.corrections
                          .map(
                            (c) =>
                              `${c.delta > 0 ? '+' : ''}${credits(c.delta)} corrected ${shortDateTime(c.createdAt)}`,
                          )
                          .join(', ')}
                      </span>
                    )}
                  </td>
                  <td>
                    {r.service}
                    <span className="sub">
                      {r.operation}
                      {org !== null ? ` · ${r.userId}` : ''}
                    </span>
                  </td>
                  <td>{r.modelId ?? '—'}</td>
                  <td>
                    {tokensOf(r).map((part, i) => (
                      <span key={part} className="part">
                        {i > 0 ? ' · ' : ''}
                        {part}
                      </span>
                    ))}
                    {dimensionsOf(r) && <span className="sub">{dimensionsOf(r)}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore query={records} />
    </>
  );
}
