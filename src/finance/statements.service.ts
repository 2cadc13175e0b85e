import { Inject, Injectable } from '@nestjs/common';

import type { ResolvedAccount } from '../auth/account-access.js';
import { accountView } from '../auth/account-views.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import type { StatementResponseDto } from '../credits/dto/statements.dto.js';
import { Transactions } from '../database/transactions.js';
import { monthBounds, monthOf, statementLines } from './statement-lines.js';
import { StatementsRepository } from './statements.repository.js';

/** Monthly statements of an account (docs/statements.md), made from its ledger as it stands. */
@Injectable()
export class StatementsService {
  constructor(
    private readonly repo: StatementsRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * The statement of `month` (default: the current UTC month) of an account the resolver gave; the
   * current one runs to now.
   */
  statement(account: ResolvedAccount, month?: string): Promise<StatementResponseDto> {
    const now = new Date(this.clock.now());
    const wanted = month ?? monthOf(now);
    const bounds = monthBounds(wanted);
    if (!bounds) throw new DomainError('VALIDATION', 'month must be YYYY-MM');
    if (bounds.start > now) throw new DomainError('VALIDATION', `The month ${wanted} has not begun`);
    const end = bounds.end < now ? bounds.end : now;
    // The opening reads only what lies before the month (it no longer changes); the closing is the
    // opening plus the lines, so the statement adds up whatever is written meanwhile.
    return this.tx.run(async (manager) => {
      const openingCredits = await this.repo.creditsAt(manager, account.accountId, bounds.start);
      const lines = statementLines(await this.repo.movements(manager, account.accountId, bounds.start, end));
      const usage = await this.repo.usage(manager, account.accountId, bounds.start, end);
      return {
        ...accountView(account.kind, account.ownerId),
        month: wanted,
        openingCredits,
        closingCredits: openingCredits + lines.reduce((sum, l) => sum + l.credits, 0),
        lines,
        usage,
      };
    });
  }
}
