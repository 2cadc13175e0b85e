import { Inject, Injectable } from '@nestjs/common';

import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { parseInstant } from '../common/validation/dates.js';
import { CreditFinanceRepository } from '../credits/credit-finance.repository.js';
import { fromMinor, minorUnits } from '../credits/currencies.js';
import type {
  AccountRollForwardDto,
  LiabilityQueryDto,
  LiabilityResponseDto,
  RollForwardQueryDto,
  RollForwardResponseDto,
} from './dto/finance.dto.js';
import { periodsOf, rollForwards } from './finance-figures.js';

const DAY_MS = 86_400_000;
const MAX_DAYS = 366;

/** An account as the reports name it: a user's by its id, an organisation's by its id. */
type Owner = { userId: string } | { orgId: string };

/**
 * The finance reports (docs/finance.md): the roll-forward of the liability by month or day and the
 * liability at an instant, from the ledger's money (read through the credits module).
 */
@Injectable()
export class FinanceService {
  constructor(
    private readonly reads: CreditFinanceRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async rollForward(query: RollForwardQueryDto): Promise<RollForwardResponseDto> {
    assertCurrency(query.currency);
    const from = utcDate('from', query.from);
    const to = utcDate('to', query.to);
    if (to <= from) throw new DomainError('VALIDATION', 'to must be after from');
    if (to.getTime() - from.getTime() > MAX_DAYS * DAY_MS) {
      throw new DomainError('VALIDATION', `from and to may be at most ${MAX_DAYS} days apart`);
    }
    const interval = query.interval ?? 'month';
    const byAccount = query.groupBy === 'account';
    const periods = periodsOf(from, to, interval);
    const input = { currency: query.currency, starts: periods.map((p) => p.start), to, byAccount };
    const [movements, frozen] = [
      await this.reads.movements({ ...input, promotional: true }),
      await this.reads.frozen(input),
    ];
    const all = rollForwards(
      byAccount ? movements.map((m) => ({ ...m, account_id: null })) : movements,
      byAccount ? frozen.map((m) => ({ ...m, account_id: null })) : frozen,
      periods,
      query.currency,
      true,
    ).get('')!;
    const response: RollForwardResponseDto = { currency: query.currency, interval, ...all };
    if (byAccount) {
      const accounts = rollForwards(movements, frozen, periods, query.currency);
      const owners = await this.owners([...accounts.keys()]);
      response.accounts = [...accounts.entries()]
        .sort(([a], [b]) => Number(BigInt(a) - BigInt(b)))
        .map(([id, figures]): AccountRollForwardDto => ({ ...owners.get(id)!, ...figures }));
    }
    return response;
  }

  async liability(query: LiabilityQueryDto): Promise<LiabilityResponseDto> {
    assertCurrency(query.currency);
    const at = query.at === undefined ? new Date(this.clock.now()) : new Date(parseInstant(query.at)!.ms);
    const limit = Number(query.limit ?? 100);
    const after = query.cursor === undefined ? null : cursorAccount(query.cursor);
    const rows = await this.reads.liability(query.currency, at);
    const total = rows.reduce((sum, r) => sum + BigInt(r.value), 0n);
    const page = rows.filter((r) => after === null || BigInt(r.account_id) > after).slice(0, limit + 1);
    const more = page.length > limit;
    const shown = page.slice(0, limit);
    const owners = await this.owners(shown.map((r) => r.account_id));
    return {
      at: at.toISOString(),
      currency: query.currency,
      total: fromMinor(total, query.currency),
      accounts: shown.map((r) => ({
        ...owners.get(r.account_id)!,
        credits: Number(r.credits),
        value: fromMinor(r.value, query.currency),
      })),
      nextCursor: more ? Buffer.from(shown[shown.length - 1].account_id).toString('base64url') : null,
    };
  }

  private async owners(accountIds: string[]): Promise<Map<string, Owner>> {
    const rows = accountIds.length > 0 ? await this.reads.owners(accountIds) : [];
    return new Map(
      rows.map((r) => [String(r.account_id), r.org_id !== null ? { orgId: r.org_id } : { userId: r.user_id! }]),
    );
  }
}

function assertCurrency(currency: string): void {
  if (minorUnits(currency) === undefined) {
    throw new DomainError('VALIDATION', 'currency must be an ISO 4217 code in lowercase (usd, eur, jpy, …)');
  }
}

function utcDate(name: string, value: string): Date {
  const date = new Date(`${value}T00:00:00.000Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new DomainError('VALIDATION', `${name} must be a date (YYYY-MM-DD)`);
  }
  return date;
}

function cursorAccount(cursor: string): bigint {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!/^\d{1,19}$/.test(text)) throw new DomainError('VALIDATION', 'cursor is not one this route gave');
  return BigInt(text);
}
