import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { getOrgStatementOptions, getStatementOptions } from '../api/generated/@tanstack/react-query.gen';
import { getOrgStatement, getStatement } from '../api/generated/sdk.gen';
import type { StatementLineDto } from '../api/generated/types.gen';
import type { PortalSession } from './account';
import { credits, money, utcDayLabel, utcMonthLabel, utcMonths } from './format';
import { Failed, Loading } from './status';

/** How many months the chooser offers, the current UTC month first. */
const MONTHS = 12;

const KIND: Record<StatementLineDto['kind'], string> = {
  purchase: 'Purchase',
  grant: 'Grant',
  plan: 'Plan',
  promotion: 'Promotion',
  transfer_in: 'Transfer in',
  transfer_out: 'Transfer out',
  usage: 'Usage',
  expiry: 'Expired',
  refund: 'Refund',
  chargeback: 'Charged back',
  void: 'Voided',
  debt: 'Debt',
  correction: 'Correction',
};

const signed = (n: number): string => (n > 0 ? `+${credits(n)}` : credits(n));

/** The session's account statement of a month (the user's own, or the org's for its readers). */
export function StatementsTab({ session }: { session: PortalSession }) {
  const months = utcMonths(MONTHS);
  const [month, setMonth] = useState(months[0]);
  const [downloading, setDownloading] = useState<'csv' | 'pdf' | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const org = session.orgId;
  const own = useQuery({ ...getStatementOptions({ query: { month } }), enabled: org === null });
  const ofOrg = useQuery({
    ...getOrgStatementOptions({ path: { orgId: org ?? '' }, query: { month } }),
    enabled: org !== null,
  });
  const statement = org === null ? own : ofOrg;

  const download = async (format: 'csv' | 'pdf') => {
    setDownloading(format);
    setDownloadError(null);
    try {
      const query = { month, format };
      const { data } =
        org === null
          ? await getStatement({ query, parseAs: 'blob', throwOnError: true })
          : await getOrgStatement({ path: { orgId: org }, query, parseAs: 'blob', throwOnError: true });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(data as unknown as Blob);
      link.download = `statement-${month}.${format}`;
      document.body.append(link);
      link.click();
      link.remove();
      URL.revokeObjectURL(link.href);
    } catch {
      setDownloadError(`The ${format.toUpperCase()} could not be made; try again in a moment.`);
    } finally {
      setDownloading(null);
    }
  };

  const s = statement.data;
  const services = s ? Object.entries(s.usage.byService).sort(([, a], [, b]) => b - a) : [];
  return (
    <>
      <h2>Statements</h2>
      <div className="filters">
        <label>
          Month (UTC)
          <select name="month" value={month} onChange={(e) => setMonth(e.currentTarget.value)}>
            {months.map((m) => (
              <option key={m} value={m}>
                {utcMonthLabel(m)}
              </option>
            ))}
          </select>
        </label>
        <div className="actions">
          <button type="button" className="secondary" onClick={() => void download('csv')} disabled={!!downloading}>
            {downloading === 'csv' ? 'Preparing…' : 'Download CSV'}
          </button>
          <button type="button" className="secondary" onClick={() => void download('pdf')} disabled={!!downloading}>
            {downloading === 'pdf' ? 'Preparing…' : 'Download PDF'}
          </button>
        </div>
      </div>
      {downloadError && <p role="alert">{downloadError}</p>}
      {statement.isError ? (
        <Failed what="the statement" />
      ) : !s ? (
        <Loading />
      ) : (
        <>
          <dl className="figures">
            <div>
              <dt>At the start of {utcMonthLabel(s.month)}</dt>
              <dd data-testid="opening">{credits(s.openingCredits)}</dd>
            </div>
            <div>
              <dt>{s.month === months[0] ? 'Now' : 'At the end of the month'}</dt>
              <dd data-testid="closing">{credits(s.closingCredits)}</dd>
            </div>
          </dl>
          <h3>Movements</h3>
          {s.lines.length === 0 ? (
            <p className="muted">Nothing moved this month.</p>
          ) : (
            <div className="table-wrap" role="region" aria-label="Statement lines" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Day (UTC)</th>
                    <th scope="col">What</th>
                    <th scope="col" className="num">
                      Credits
                    </th>
                    <th scope="col" className="num">
                      Value
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {s.lines.map((line, i) => (
                    <tr key={`${line.date}-${line.kind}-${i}`}>
                      <td className="when">{utcDayLabel(line.date, true)}</td>
                      <td>
                        {KIND[line.kind]}
                        <span className="sub">{line.description}</span>
                      </td>
                      <td className="num">{signed(line.credits)}</td>
                      <td className="num">
                        {line.value !== undefined && line.currency ? money(line.value, line.currency) : '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {services.length > 0 && (
            <>
              <h3>Usage by service</h3>
              <div className="table-wrap" role="region" aria-label="Usage by service" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Service</th>
                      <th scope="col" className="num">
                        Credits
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {services.map(([service, used]) => (
                      <tr key={service}>
                        <td>{service}</td>
                        <td className="num">{credits(used)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </>
      )}
    </>
  );
}
