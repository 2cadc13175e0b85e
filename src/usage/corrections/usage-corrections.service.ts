import { createHash } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { accountNamed } from '../../accounts/account-ref.js';
import {
  ACCOUNT_ACCESS,
  type AccountAccess,
  type AccountRule,
  type ResolvedAccount,
} from '../../auth/account-access.js';
import type { Taken } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import type { RowAccountReader } from '../../auth/row-accounts.js';
import { Changes } from '../../changes/changes.js';
import { DomainError, NotFoundError } from '../../common/errors/domain-error.js';
import { CORRECTIONS_PATH } from '../../common/http/deferred-routes.js';
import { isUuid } from '../../common/validation/ids.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { CreditsService } from '../../engine/credits.service.js';
import type { CreateOutcome } from '../../idempotency/replayed-create.interceptor.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { PricingService } from '../../pricing/pricing.service.js';
import { meteredCounts, meteredDimensions } from '../../pricing/provider-usage.js';
import { hasKinds } from '../../pricing/token-counts.js';
import type { CorrectUsageDto, UsageCorrectionResponseDto } from '../dto/correction.dto.js';
import { CorrectionTurns, correctionTurnsOf } from './correction-turns.js';
import {
  type CorrectedRecord,
  type CorrectedRecordAnswer,
  type CorrectedRecordRow,
  type CorrectionRow,
  toCorrected,
  UsageCorrectionsRepository,
} from './usage-corrections.repository.js';

/**
 * Who may correct a record: staff (supervisor and admin JWTs) and service principals (an admin token,
 * a key with usage:ingest) on every account; its user sees it and gets 403, anyone else 404. The access
 * guard applies it to the record's account (the route's `row` rule), read by the record's id
 * (`accountOfRow()`).
 */
export const CORRECTORS: AccountRule = {
  user: 'staff',
  org: 'staff',
  services: true,
  staff: 'supervisor',
  what: 'correct its usage',
  write: true,
};

/** The body as the hash compares it: its fields sorted, so the same body in another order is the same. */
export function bodyHash(body: CorrectUsageDto): string {
  const sorted = (value: unknown): unknown =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.keys(value as object)
            .sort()
            .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
        )
      : value;
  return createHash('sha256')
    .update(JSON.stringify(sorted(body)))
    .digest('hex');
}

export function toCorrectionDto(row: CorrectionRow): UsageCorrectionResponseDto {
  return {
    id: row.id,
    recordId: row.record_id,
    correctionId: row.correction_id,
    previousCredits: row.previous_credits,
    credits: row.credits,
    delta: row.delta,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * Corrections of usage records (docs/usage.md "Corrections"): what a record should have cost, set
 * once per correction id. The record is locked, its net read, the credits moved by the engine
 * (credits_correct(), under the account's lock), the correction written with its event and audit
 * entry, all in one transaction; one correction and a re-rate's many go through the same statement
 * (CreditsService.correct()). The record itself never changes (its review state aside).
 */
@Injectable()
export class UsageCorrectionsService implements RowAccountReader {
  private readonly turns: CorrectionTurns;
  /** CORRECTIONS_PER_RECORD: a record's corrections are listed with it, so they stay few. */
  private readonly perRecord: number;

  constructor(
    private readonly repo: UsageCorrectionsRepository,
    @Inject(CreditsService) private readonly credits: CreditsService,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(Changes) private readonly changes: Changes,
    @Inject(ACCOUNT_ACCESS) private readonly access: Pick<AccountAccess, 'forGrant'>,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    this.turns = new CorrectionTurns(correctionTurnsOf(config.database.poolSize), () => metrics.requestsInFlight);
    this.perRecord = config.corrections.perRecord;
  }

  /** Corrections running or waiting for their turn on this instance. */
  get queued(): number {
    return this.turns.queued;
  }

  /**
   * The server's request listener in front of `app`: a correction request waits for its turn before
   * the app reads it (CorrectionTurns.intake); any other request goes straight on.
   */
  aheadOf(app: Parameters<CorrectionTurns['aheadOf']>[0]): ReturnType<CorrectionTurns['aheadOf']> {
    return this.turns.aheadOf(app, CORRECTIONS_PATH);
  }

  /** The account record `id` belongs to, as it names it (null: no such record): ROW_ACCOUNTS' `usage-record`. */
  async accountOfRow(id: string): Promise<Pick<ResolvedAccount, 'kind' | 'ownerId'> | null> {
    const owners = await this.repo.owners(this.changes.tx.statementManager, id);
    return owners && accountNamed(owners.org_id, owners.user_id);
  }

  /**
   * Corrects record `recordId` to what `body` says it should have cost, as `actor`; `replayed` when
   * the correction id was used on the record before (the first answer, nothing moved). `reached`: whether
   * `actor` may reach the record's account under CORRECTORS, as the access guard decided it (RowReached).
   */
  async correct(
    recordId: string,
    body: CorrectUsageDto,
    actor: AuthUser,
    reached: Taken<boolean>,
  ): Promise<CreateOutcome<UsageCorrectionResponseDto>> {
    if (!isUuid(recordId)) throw new NotFoundError('Usage record');
    const counted =
      body.tokens !== undefined || hasKinds(body) || body.units !== undefined || body.providerUsage !== undefined;
    if ((body.credits !== undefined) === counted)
      throw new DomainError(
        'VALIDATION',
        'Give what the record should have cost one way: credits, or token counts and/or units, or providerUsage',
      );
    const hash = bodyHash(body);
    return this.turns.run(() => this.apply(recordId, body, hash, actor, reached));
  }

  /**
   * correct() in its turn: one transaction, every statement on its one connection. The record is
   * locked and read here (the guard's refusal of its account answered once it is found, its net
   * deciding whether the correction gives credits back), then corrected as a batch of one through
   * correctMany(), the statement a re-rate's chunks go through (CreditsService.correct()).
   */
  private apply(
    recordId: string,
    body: CorrectUsageDto,
    hash: string,
    actor: AuthUser,
    reached: Taken<boolean>,
  ): Promise<CreateOutcome<UsageCorrectionResponseDto>> {
    return this.changes.tx.run(async (m) => {
      const record = await this.repo.lockRecord(m, recordId, body.correctionId);
      // No record when the guard read it: none then, as for an id that names none.
      if (!record || !reached.take()) throw new NotFoundError('Usage record');
      if (record.found) {
        if (record.found.body_hash !== hash)
          throw new DomainError('CORRECTION_ID_REUSED', 'This correctionId was already used with a different body', {
            correctionId: body.correctionId,
          });
        return { value: toCorrectionDto(record.found), replayed: true };
      }
      if (record.correction_count >= this.perRecord)
        throw new DomainError(
          'TOO_MANY_CORRECTIONS',
          `This record has taken its ${this.perRecord} corrections (CORRECTIONS_PER_RECORD)`,
        );
      const credits = await this.target(record, body);
      // Credits given back to the caller's own account (or an org they belong to) are a grant to
      // themself: the separation of duties grants, transfers and plan changes keep. Every statement on
      // this transaction's connection: one asked of the pool while the record is locked waits behind
      // the other corrections holding the pool, which wait for this lock.
      if (credits < record.net)
        await this.access.forGrant(actor, accountNamed(record.org_id, record.user_id), 'correction', m);
      const [done] = await this.correctMany(
        m,
        { correctionId: body.correctionId, reason: body.reason, createdBy: actor.userId },
        [{ recordId: record.id, credits, bodyHash: hash }],
      );
      const correction: UsageCorrectionResponseDto = {
        id: done.id,
        recordId: record.id,
        correctionId: body.correctionId,
        previousCredits: done.previousCredits,
        credits,
        delta: done.delta,
        reason: body.reason,
        createdBy: actor.userId,
        createdAt: done.createdAt.toISOString(),
      };
      await this.changes.audit.record(m, {
        action: 'usage.correct',
        targetId: record.id,
        before: { credits: done.previousCredits },
        after: { ...correction },
      });
      return { value: correction, replayed: false };
    });
  }

  /**
   * Many records each set to its credits by one correction (`correctionId`, `reason`) made by
   * `createdBy`, in the caller's transaction (`manager`): a re-rate's chunk. Each is what correct()
   * does for the body `{correctionId, reason, credits}` from a service principal, through the same
   * statement (CreditsService.correct() with this module's parts, usage_records_correct_begin() and
   * usage_records_correct_finish()), each step over all the records: the records locked, their nets
   * read, their credits moved by the engine under their accounts' locks (one take for what they
   * add), the corrections, reviews and events written; a correction id a
   * record already has moves nothing and answers that correction.
   * An item's `bodyHash` is the hash of the body that asked for it (correct()'s own body); without
   * one, the hash of `{correctionId, reason, credits}`, the body a re-rate's correction stands for.
   * What each moved: its delta (0: nothing), with its correction's id, previous credits and time.
   */
  async correctMany(
    manager: EntityManager,
    correction: { correctionId: string; reason: string; createdBy: string },
    items: { recordId: string; credits: number; bodyHash?: string }[],
  ): Promise<CorrectedRecord[]> {
    const statement = this.repo.correctStatement({
      correctionId: correction.correctionId,
      reason: correction.reason,
      createdBy: correction.createdBy,
      recordIds: items.map((i) => i.recordId),
      credits: items.map((i) => i.credits),
      bodyHashes: items.map(
        (i) =>
          i.bodyHash ??
          bodyHash({ correctionId: correction.correctionId, reason: correction.reason, credits: i.credits }),
      ),
    });
    const rows = toCorrected(
      await this.credits.correct<CorrectedRecordAnswer>(manager, correction.createdBy, statement),
    );
    return rows;
  }

  /** What the body says the record should have cost: its credits, or its counts priced at the record's time. */
  private async target(record: CorrectedRecordRow, body: CorrectUsageDto): Promise<number> {
    if (body.credits !== undefined) return body.credits;
    if (record.model_id === null)
      throw new DomainError('VALIDATION', 'The record names no model to price counts with: give credits');
    const counts = meteredCounts(body.tokens, body, 'tokens');
    const dimensions = meteredDimensions({ ...body, serviceTier: record.service_tier ?? undefined });
    // Priced by the rule and the price of the account it charged in force when the usage happened.
    const quote = await this.pricing.quote(
      record.model_id,
      counts.kinds,
      record.occurred_at,
      record.account_id,
      dimensions,
    );
    return quote.credits;
  }
}
