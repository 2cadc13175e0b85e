import type { Readable } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';

import { type AccountView, accountView } from '../auth/account-views.js';
import { BoundedMap } from '../common/bounded-map.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { fromMinor } from '../common/money/currencies.js';
import { parseInstant } from '../common/validation/dates.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { type HeavyRead, type HeavyReadConnection, HeavyReads, heavyStream } from '../database/heavy-reads.js';
import type {
  AccountRollForwardDto,
  LiabilityAccountDto,
  LiabilityQueryDto,
  LiabilityResponseDto,
  RollForwardQueryDto,
  RollForwardResponseDto,
} from './dto/finance.dto.js';
import { CreditFinanceRepository, type MoneyOf } from './feed/credit-finance.repository.js';
import { CreditLedgerDaysJob } from './feed/credit-ledger-days.job.js';
import { LIABILITY_CSV_HEADER, liabilityCsvRows, ROLL_FORWARD_CSV_HEADER, rollForwardCsvRows } from './finance-csv.js';
import { periodsOf, type RollForward, rollForwards } from './finance-figures.js';
import { currencyFields, moneyOf, ratesFor } from './reporting-money.js';

const DAY_MS = 86_400_000;
const MAX_DAYS = 366;
/** Accounts read at a time for a CSV of every account (fewer when the periods are many). */
const CSV_PAGE = 1000;
/**
 * The most account periods a page of the roll-forward by account builds (accounts × periods): 100
 * accounts by day over a year, 1,000 by month. Each is 14 figures built in Node, on the cores
 * metering uses, so a page is bounded by what it builds, not by its accounts alone; a `limit` beyond
 * it gives a shorter page and a `nextCursor` (docs/finance.md).
 */
export const ROLL_FORWARD_PAGE_PERIODS = 36_600;
/** Accounts whose figures are built between two turns of the event loop. */
const ACCOUNTS_AT_A_TIME = 2;
/**
 * How long a page after the first (one with a `cursor`) answers the figures of all accounts that a
 * page of the same roll-forward summed, instead of summing the range's every line again (docs/finance.md).
 */
export const ROLL_FORWARD_TOTALS_REUSE_MS = 5 * 60_000;
/** Roll-forwards (currency, range, interval) whose figures of all accounts are kept for their pages. */
const TOTALS_KEPT = 32;

/** An account as the reports name it: a user's by its id, an organisation's by its id. */

/** A roll-forward asked for, checked: of one currency, or converted into the reporting currency. */
interface RollForwardPlan extends MoneyOf {
  /** When the rates last changed (converted reads: figures kept for later pages are of the same rates). */
  rates: string;
  from: Date;
  to: Date;
  interval: 'month' | 'day';
  periods: { start: Date; end: Date }[];
  byAccount: boolean;
  /** The page starts after this account (null: at the first). */
  after: string | null;
  limit: number;
}

/** A page of accounts and the last one shown when more follow (null: the last page). */
interface Page<T> {
  accounts: T[];
  more: string | null;
}

/**
 * The finance reports (docs/finance.md): the roll-forward of the liability by month or day and the
 * liability at an instant, from the ledger's money (read through the credits module). Each is a heavy
 * read (src/database/heavy-reads.ts); accounts come a page at a time, chosen and summed in SQL.
 */
@Injectable()
export class FinanceService {
  /** The figures of all accounts a page summed, by roll-forward, and when its read began (totalsOfPage()). */
  private readonly totals = new BoundedMap<string, { figures: RollForward; at: number }>(TOTALS_KEPT);

  constructor(
    private readonly reads: CreditFinanceRepository,
    private readonly days: CreditLedgerDaysJob,
    private readonly heavy: HeavyReads,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The roll-forward of all accounts together (without groupBy=account). */
  async rollForward(query: RollForwardQueryDto): Promise<RollForwardResponseDto> {
    const plan = this.plan(query);
    if (plan.reporting == null) await this.days.fillWhenStale();
    return this.heavy.run(async (db) => {
      plan.rates = await ratesFor(this.reads, db, plan, plan.to);
      return { ...currencyFields(plan), interval: plan.interval, ...(await this.allAccounts(db, plan)) };
    });
  }

  /**
   * The roll-forward with a page of accounts (groupBy=account) as JSON text, streamed: each account's
   * figures are computed, written and dropped in turn, giving the event loop back between a few, so a
   * page of a year by day never stands in memory as a whole nor holds up the requests beside it.
   */
  async rollForwardByAccount(query: RollForwardQueryDto): Promise<Readable> {
    const plan = this.plan(query);
    if (plan.after === null && plan.reporting == null) await this.days.fillWhenStale();
    const read = await this.openChecked(plan, plan.to);
    return heavyStream(read, (db) => this.rollForwardJson(db, plan));
  }

  /** The roll-forward as CSV, every account from the cursor on (groupBy=account), streamed page by page. */
  async rollForwardCsv(query: RollForwardQueryDto): Promise<Readable> {
    const plan = this.plan(query);
    if (plan.reporting == null) await this.days.fillWhenStale();
    const read = await this.openChecked(plan, plan.to);
    return heavyStream(read, (db) => this.rollForwardLines(db, plan));
  }

  private plan(query: RollForwardQueryDto): RollForwardPlan {
    return rollForwardPlan(query, moneyOf(query, this.config.finance.reportingCurrency));
  }

  /**
   * A heavy read held open for a stream, the rates checked first on its snapshot (a converted read):
   * a day without a rate answers 422 before anything is sent.
   */
  private async openChecked(money: MoneyOf & { rates?: string }, to: Date): Promise<HeavyRead> {
    const read = await this.heavy.open();
    try {
      money.rates = await ratesFor(this.reads, read, money, to);
      return read;
    } catch (error) {
      await read.release();
      throw error;
    }
  }

  liability(query: LiabilityQueryDto): Promise<LiabilityResponseDto> {
    const money = moneyOf(query, this.config.finance.reportingCurrency);
    const at = this.instant(query.at);
    const after = query.cursor === undefined ? null : cursorAccount(query.cursor);
    return this.heavy.run(async (db) => {
      await ratesFor(this.reads, db, money, at);
      const total = await this.reads.liabilityTotal(db, money, at);
      const page = await this.liabilityPage(db, money, at, after, Number(query.limit ?? 100));
      return {
        at: at.toISOString(),
        ...currencyFields(money),
        total: fromMinor(total, money.currency),
        accounts: page.accounts,
        nextCursor: page.more === null ? null : cursorOf(page.more),
      };
    });
  }

  /** The liability as CSV: every account from the cursor on, streamed page by page. */
  async liabilityCsv(query: LiabilityQueryDto): Promise<Readable> {
    const money = moneyOf(query, this.config.finance.reportingCurrency);
    const at = this.instant(query.at);
    const first = query.cursor === undefined ? null : cursorAccount(query.cursor);
    const read = await this.openChecked(money, at);
    const pages = async function* (this: FinanceService, db: HeavyReadConnection) {
      yield LIABILITY_CSV_HEADER;
      let after = first;
      do {
        const page = await this.liabilityPage(db, money, at, after, CSV_PAGE);
        yield liabilityCsvRows(page.accounts);
        after = page.more;
      } while (after !== null);
    };
    return heavyStream(read, (db) => pages.call(this, db));
  }

  private async *rollForwardJson(db: HeavyReadConnection, plan: RollForwardPlan): AsyncIterable<string> {
    const all = await this.totalsOfPage(db, plan);
    const page = await this.pageIds(db, plan, plan.after, plan.limit);
    const head = JSON.stringify({
      ...currencyFields(plan),
      interval: plan.interval,
      ...all,
      nextCursor: page.more === null ? null : cursorOf(page.more),
    });
    yield `${head.slice(0, -1)},"accounts":[`;
    let separator = '';
    for await (const accounts of this.accountsOf(db, plan, page.ids)) {
      yield separator + accounts.map((account) => JSON.stringify(account)).join(',');
      separator = ',';
    }
    yield ']}';
  }

  private async *rollForwardLines(db: HeavyReadConnection, plan: RollForwardPlan): AsyncIterable<string> {
    yield ROLL_FORWARD_CSV_HEADER + rollForwardCsvRows({}, (await this.allAccounts(db, plan)).periods);
    if (!plan.byAccount) return;
    let after = plan.after;
    do {
      const page = await this.pageIds(db, plan, after, pageBound(CSV_PAGE, plan.periods.length));
      for await (const accounts of this.accountsOf(db, plan, page.ids)) {
        yield accounts.map((account) => rollForwardCsvRows(account, account.periods)).join('');
      }
      after = page.more;
    } while (after !== null);
  }

  /**
   * The figures of all accounts for a page of accounts: a first page (no cursor) sums them; a page
   * after it answers those a page of the same roll-forward summed within ROLL_FORWARD_TOTALS_REUSE_MS
   * (so the pages of one listing carry the same figures and only the first pays the pass over every
   * line of the range), summing them anew when none are that recent.
   */
  private async totalsOfPage(db: HeavyReadConnection, plan: RollForwardPlan): Promise<RollForward> {
    const key = `${plan.currency} ${plan.reporting ?? ''} ${plan.rates} ${plan.from.toISOString()} ${plan.to.toISOString()} ${plan.interval}`;
    const kept = this.totals.get(key);
    const now = this.clock.now();
    if (plan.after !== null && kept !== undefined && now - kept.at <= ROLL_FORWARD_TOTALS_REUSE_MS) return kept.figures;
    const figures = await this.allAccounts(db, plan);
    this.totals.set(key, { figures, at: now });
    return figures;
  }

  /**
   * The figures of all accounts together, summed in SQL by period: from the day sums and the lines
   * they do not cover when they have been filled (a roll-forward's periods start and end at UTC
   * midnights, so each day falls whole into one), else from every line.
   */
  private async allAccounts(db: HeavyReadConnection, plan: RollForwardPlan): Promise<RollForward> {
    const input = {
      currency: plan.currency,
      reporting: plan.reporting,
      starts: plan.periods.map((p) => p.start),
      to: plan.to,
    };
    // The day sums hold each currency's money as it is: converted figures are summed line by line.
    const cover = plan.reporting == null ? await this.reads.daysCover(db) : null;
    const movements = cover
      ? await this.reads.movementsOfAll(db, { ...input, promotional: true, cover })
      : await this.reads.movements(db, { ...input, byAccount: false, promotional: true });
    const frozen = cover
      ? await this.reads.frozenOfAll(db, { ...input, cover })
      : await this.reads.frozen(db, { ...input, byAccount: false });
    return rollForwards(movements, frozen, plan.periods, plan.currency, true).get('')!;
  }

  /** Up to `limit` accounts after `after` with a movement or a balance in the range (chosen in SQL). */
  private async pageIds(
    db: HeavyReadConnection,
    plan: RollForwardPlan,
    after: string | null,
    limit: number,
  ): Promise<{ ids: string[]; more: string | null }> {
    const ids = await this.reads.rollForwardAccounts(db, { ...plan, after, limit: limit + 1 });
    const shown = ids.slice(0, limit);
    return { ids: shown, more: ids.length > limit ? shown[shown.length - 1] : null };
  }

  /**
   * The figures of `ids`, a few accounts at a time: their sums by period come from SQL in one read,
   * each account's roll-forward is built only when its turn comes, and the event loop runs between.
   */
  private async *accountsOf(
    db: HeavyReadConnection,
    plan: RollForwardPlan,
    ids: string[],
  ): AsyncIterable<AccountRollForwardDto[]> {
    if (ids.length === 0) return;
    const input = {
      currency: plan.currency,
      reporting: plan.reporting,
      starts: plan.periods.map((p) => p.start),
      to: plan.to,
      byAccount: true,
    };
    const movements = groupBy(await this.reads.movements(db, { ...input, promotional: true, accounts: ids }));
    const frozen = groupBy(await this.reads.frozen(db, { ...input, accounts: ids }));
    const owners = await this.owners(db, ids);
    for (let i = 0; i < ids.length; i += ACCOUNTS_AT_A_TIME) {
      yield ids.slice(i, i + ACCOUNTS_AT_A_TIME).map((id) => {
        const figures = rollForwards(movements.get(id) ?? [], frozen.get(id) ?? [], plan.periods, plan.currency);
        return {
          ...owners.get(id)!,
          ...(figures.get(id) ?? rollForwards([], [], plan.periods, plan.currency, true).get('')!),
        };
      });
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async liabilityPage(
    db: HeavyReadConnection,
    money: MoneyOf,
    at: Date,
    after: string | null,
    limit: number,
  ): Promise<Page<LiabilityAccountDto>> {
    const rows = await this.reads.liability(db, { ...money, at, after, limit: limit + 1 });
    const shown = rows.slice(0, limit);
    const owners = await this.owners(
      db,
      shown.map((r) => r.account_id),
    );
    return {
      accounts: shown.map((r) => ({
        ...owners.get(r.account_id)!,
        credits: Number(r.credits),
        value: fromMinor(r.value, money.currency),
      })),
      more: rows.length > limit ? shown[shown.length - 1].account_id : null,
    };
  }

  private instant(at: string | undefined): Date {
    return at === undefined ? new Date(this.clock.now()) : new Date(parseInstant(at)!.ms);
  }

  private async owners(db: HeavyReadConnection, accountIds: string[]): Promise<Map<string, AccountView>> {
    const rows = accountIds.length > 0 ? await this.reads.owners(db, accountIds) : [];
    return new Map(
      rows.map((r) => [
        String(r.account_id),
        r.org_id !== null ? accountView('org', r.org_id) : accountView('user', r.user_id!),
      ]),
    );
  }
}

/** Rows by their account. */
function groupBy<T extends { account_id: string | null }>(rows: T[]): Map<string, T[]> {
  const byAccount = new Map<string, T[]>();
  for (const row of rows) {
    const key = String(row.account_id);
    const list = byAccount.get(key);
    if (list) list.push(row);
    else byAccount.set(key, [row]);
  }
  return byAccount;
}

function rollForwardPlan(query: RollForwardQueryDto, money: MoneyOf): RollForwardPlan {
  const from = utcDate('from', query.from);
  const to = utcDate('to', query.to);
  if (to <= from) throw new DomainError('VALIDATION', 'to must be after from');
  if (to.getTime() - from.getTime() > MAX_DAYS * DAY_MS) {
    throw new DomainError('VALIDATION', `from and to may be at most ${MAX_DAYS} days apart`);
  }
  const interval = query.interval ?? 'month';
  const periods = periodsOf(from, to, interval);
  return {
    ...money,
    rates: '',
    from,
    to,
    interval,
    periods,
    byAccount: query.groupBy === 'account',
    after: query.cursor === undefined ? null : cursorAccount(query.cursor),
    limit: pageBound(Number(query.limit ?? 100), periods.length),
  };
}

/** At most `limit` accounts, and at most ROLL_FORWARD_PAGE_PERIODS account periods (never none). */
function pageBound(limit: number, periods: number): number {
  return Math.max(1, Math.min(limit, Math.floor(ROLL_FORWARD_PAGE_PERIODS / periods)));
}

function utcDate(name: string, value: string): Date {
  const date = new Date(`${value}T00:00:00.000Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new DomainError('VALIDATION', `${name} must be a date (YYYY-MM-DD)`);
  }
  return date;
}

function cursorOf(accountId: string): string {
  return Buffer.from(accountId).toString('base64url');
}

/** The account a cursor names (a forged one → 400). */
function cursorAccount(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!/^-?\d{1,19}$/.test(text) || BigInt(text) > 9_223_372_036_854_775_807n || BigInt(text) < -(2n ** 63n)) {
    throw new DomainError('VALIDATION', 'cursor is not one this route gave');
  }
  return text;
}
