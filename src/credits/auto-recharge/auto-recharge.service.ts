import { Inject, Injectable } from '@nestjs/common';

import { AuditService } from '../../audit/audit.service.js';
import { type AccountRule, isStaff, type ResolvedAccount } from '../../auth/account-access.js';
import { accountView } from '../../auth/account-views.js';
import type { BodyNamed } from '../../auth/auth.decorator.js';
import { isServicePrincipal } from '../../auth/metering.js';
import type { AuthUser } from '../../auth/roles.js';
import { DomainError, NotFoundError } from '../../common/errors/domain-error.js';
import { Transactions } from '../../database/transactions.js';
import {
  type AutoRechargeAttemptRow,
  type AutoRechargeSettingsRow,
  CreditAccountsService,
} from '../../engine/credit-accounts.service.js';
import type {
  AutoRechargeAttemptDto,
  AutoRechargeAttemptResponseDto,
  AutoRechargeResponseDto,
  PutAutoRechargeDto,
} from '../dto/auto-recharge.dto.js';

/** How many attempts the GET answers, newest first. */
export const RECENT_ATTEMPTS = 50;
export const DEFAULT_MIN_INTERVAL_MINUTES = 60;
/**
 * The shortest interval the account's own user or an org manager may set: a shorter one let a user's
 * token try a card every few seconds through the platform (card testing). Staff may set any.
 */
export const MIN_OWN_INTERVAL_MINUTES = 5;
/** The failures in a row after which auto-recharge turns itself off (auto_recharge_fail()). */
export const FAILURES_TO_DISABLE = 3;

const ATTEMPT = 'Auto-recharge attempt';

/**
 * Auto-recharge (docs/auto-recharge.md): an account's settings, read and
 * replaced under the account lock; the attempts the takes open (auto_recharge_check()), failed by the
 * platform here and closed by the purchase made for them (the engine's `CreditAccountsService.rechargeSucceeded()`).
 */
/** Who reads an account's auto-recharge: the user, the org's readers, staff. */
export const AUTO_RECHARGE_READERS: AccountRule = { user: 'holder', org: 'reader', what: 'read its auto-recharge' };
/** Who sets it: the user, the org's owners and admins, staff (the PUT's `body` rule). */
export const AUTO_RECHARGE_WRITERS: AccountRule = { user: 'holder', org: 'manager', what: 'set its auto-recharge' };

@Injectable()
export class AutoRechargeService {
  constructor(
    @Inject(CreditAccountsService) private readonly accounts: CreditAccountsService,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  /** The settings of the account the route names, else the caller's own, as the access guard resolved it. */
  async get(resolved: ResolvedAccount): Promise<AutoRechargeResponseDto> {
    const m = this.tx.statementManager;
    return this.view(
      resolved,
      await this.accounts.autoRecharge(m, resolved.accountId),
      await this.accounts.rechargeAttempts(m, resolved.accountId, RECENT_ATTEMPTS),
    );
  }

  /** `named`: the account the body names, as the access guard resolved it under AUTO_RECHARGE_WRITERS. */
  async put(caller: AuthUser, body: PutAutoRechargeDto, named: BodyNamed): Promise<AutoRechargeResponseDto> {
    if (body.userId === undefined && body.orgId === undefined) {
      throw new DomainError('VALIDATION', 'Give userId or orgId: the account whose auto-recharge this is');
    }
    const maxCreditsPerMonth = body.maxCreditsPerMonth ?? null;
    if (maxCreditsPerMonth !== null && maxCreditsPerMonth < body.rechargeCredits) {
      throw new DomainError(
        'VALIDATION',
        'maxCreditsPerMonth must be at least rechargeCredits, or no attempt could open',
      );
    }
    const minIntervalMinutes = body.minIntervalMinutes ?? DEFAULT_MIN_INTERVAL_MINUTES;
    const staff = isStaff(caller);
    if (!staff && minIntervalMinutes < MIN_OWN_INTERVAL_MINUTES) {
      throw new DomainError(
        'VALIDATION',
        `minIntervalMinutes must be at least ${MIN_OWN_INTERVAL_MINUTES} (only supervisors and admins may set less)`,
      );
    }
    const account: Pick<ResolvedAccount, 'kind' | 'ownerId'> =
      body.orgId !== undefined ? { kind: 'org', ownerId: body.orgId } : { kind: 'user', ownerId: body.userId! };
    // The access rule (src/auth/account-access.ts) on the account the body names, as the guard read
    // it (null: it has no account); its refusal answers here, after the body's own checks.
    const resolved = named.take();
    return this.tx.run(async (m) => {
      const accountId = resolved?.accountId ?? null;
      if (accountId === null || !(await this.accounts.lockAccount(m, accountId))) throw notFound(account);
      const before = await this.accounts.autoRecharge(m, accountId);
      // Turned itself off after failures in a row: the card keeps failing, and only staff decide to
      // try again (with a fresh count); anyone else may still change it while it stays off.
      const turnedOff = before !== null && !before.enabled && before.consecutiveFailures >= FAILURES_TO_DISABLE;
      if (turnedOff && body.enabled && !staff) {
        throw new DomainError(
          'FORBIDDEN',
          `Auto-recharge turned itself off after ${FAILURES_TO_DISABLE} failed attempts in a row: ` +
            'only supervisors and admins may turn it back on',
        );
      }
      const after = await this.accounts.putAutoRecharge(
        m,
        accountId,
        {
          enabled: body.enabled,
          belowCredits: body.belowCredits,
          rechargeCredits: body.rechargeCredits,
          maxCreditsPerMonth,
          minIntervalMinutes,
        },
        caller.userId,
        turnedOff && body.enabled,
      );
      // Audited whoever sets it (the account's own user too): it lets the platform charge their card.
      await this.audit.record(m, {
        action: 'auto_recharge.set',
        targetId: account.ownerId,
        before: before && { ...accountView(account.kind, account.ownerId), ...before },
        after: { ...accountView(account.kind, account.ownerId), ...after },
        whoever: true,
      });
      return this.view(account, after, await this.accounts.rechargeAttempts(m, accountId, RECENT_ATTEMPTS));
    });
  }

  /** The platform could not collect an attempt's payment (a service principal says so). */
  async fail(caller: AuthUser, id: string, reason: string | null): Promise<AutoRechargeAttemptResponseDto> {
    if (!isServicePrincipal(caller)) {
      throw new DomainError(
        'FORBIDDEN',
        'Only service principals (an admin token, or an API key with usage:ingest) may fail an auto-recharge attempt',
      );
    }
    return this.tx.run(async (m) => {
      const outcome = await this.accounts.failRecharge(m, id, reason);
      if (outcome === 'not_found') throw new NotFoundError(ATTEMPT);
      if (outcome === 'succeeded') {
        throw new DomainError('AUTO_RECHARGE_ATTEMPT_CLOSED', 'This auto-recharge attempt succeeded: it cannot fail');
      }
      const attempt = (await this.accounts.rechargeAttempt(m, id)) as AutoRechargeAttemptRow;
      const settings = await this.accounts.autoRecharge(m, attempt.accountId);
      const after = {
        ...attemptView(attempt),
        ...accountView(attempt.kind, attempt.ownerId),
        reason: attempt.reason,
        autoRechargeEnabled: !!settings?.enabled,
      };
      if (outcome === 'failed') {
        await this.audit.record(m, {
          action: 'auto_recharge.fail',
          targetId: id,
          before: { ...after, status: 'open', closedAt: null, reason: null },
          after: { ...after, consecutiveFailures: settings?.consecutiveFailures ?? 0 },
          whoever: true,
        });
      }
      return after;
    });
  }

  /**
   * The account named, when the caller may read or change its auto-recharge: a user's own account, any
   * account for supervisors and admins (by JWT), an organisation's for its managers (change) or its
   * readers (read).
   */
  private view(
    account: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
    settings: AutoRechargeSettingsRow | null,
    attempts: AutoRechargeAttemptRow[],
  ): AutoRechargeResponseDto {
    return {
      ...accountView(account.kind, account.ownerId),
      enabled: settings?.enabled ?? false,
      belowCredits: settings?.belowCredits ?? null,
      rechargeCredits: settings?.rechargeCredits ?? null,
      maxCreditsPerMonth: settings?.maxCreditsPerMonth ?? null,
      minIntervalMinutes: settings?.minIntervalMinutes ?? DEFAULT_MIN_INTERVAL_MINUTES,
      consecutiveFailures: settings?.consecutiveFailures ?? 0,
      attempts: attempts.map(attemptView),
    };
  }
}

const notFound = (account: Pick<ResolvedAccount, 'kind'>) =>
  new NotFoundError(account.kind === 'org' ? 'Organisation' : 'User');

function attemptView(a: AutoRechargeAttemptRow): AutoRechargeAttemptDto {
  return {
    id: a.id,
    credits: a.credits,
    status: a.status,
    openedAt: a.openedAt.toISOString(),
    closedAt: a.closedAt?.toISOString() ?? null,
  };
}
