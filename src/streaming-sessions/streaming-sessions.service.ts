import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { billedUser } from '../accounts/account-ref.js';
import type { Payer } from '../accounts/payer.js';
import { PayerService } from '../accounts/payer.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { AuthUser } from '../auth/roles.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { timeOrderedId } from '../common/time-ordered-id.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { Condition, SqlPart } from '../database/statement-parts.js';
import { Transactions } from '../database/transactions.js';
import { CreditsService } from '../engine/credits.service.js';
import { NO_DIMENSIONS, unknownServiceTier, unpricedUnit } from '../pricing/dimensions.js';
import { PricingService, unknownModel } from '../pricing/pricing.service.js';
import { meteredCounts, meteredDimensions } from '../pricing/provider-usage.js';
import { SteppedQuotes } from '../pricing/quotes/stepped-quotes.service.js';
import { hasKinds, type TokenCounts, tokenCounts } from '../pricing/token-counts.js';
import { perField } from '../pricing/token-kinds.js';
import { UsageService } from '../usage/usage.service.js';
import { CoalescedHolds } from './coalesced-holds.js';
import { CoalescedSettlements } from './coalesced-settlements.js';
import type { AbortSessionDto, FinalizeSessionDto, InitializeSessionDto } from './dto/session-requests.dto.js';
import type { SessionResponseDto } from './dto/session-responses.dto.js';
import type { SettlementRequest } from './entities/streaming-session.entity.js';
import { SessionSettlementsRepository, settledColumns, type SettlingRow } from './session-settlements.repository.js';
import { abortAnswer, finalizeAnswer, holdFor, replayOrConflict, type SettledSession } from './settlement.js';
import {
  ESTIMATED,
  type RecordExtras,
  requestSource,
  SERVICE_BY_STATUS,
  sessionRecordExtras,
  type SettledStatus,
  type SettlementPlan,
  type SettlementSource,
  settlementTokens,
  sourceOf,
} from './settlement-plan.js';
import {
  type DueSession,
  estimateColumn,
  StreamingSessionsRepository,
  toSessionDto,
} from './streaming-sessions.repository.js';

/** initialize() with a condition opened nothing: the condition was false (or, never for a fresh id, the id was taken). */
export class SessionNotOpened extends Error {
  constructor() {
    super('The session was not opened: its condition did not hold');
  }
}

/** A finalize's or an abort's counts, where they came from, and what an in-process caller adds to its record. */
interface SettlementInput {
  request: SettlementRequest;
  tokens: TokenCounts;
  source: SettlementSource;
  extras?: RecordExtras;
  /** Whether nobody waits for the settlement's answer (see `finalize`). */
  unwaited?: boolean;
}

/**
 * Streaming sessions: a hold of `ceil(estimate × 6/5)` credits while a chat answer streams, settled
 * exactly once at its real price (finalize / abort) or at its estimate when abandoned (expiry job).
 * Initialize and every settlement are ONE statement each (docs/money.md "Streaming sessions").
 *
 * Lock order: a settlement (finalize, abort, expiry) locks the session row, then the account row,
 * the hold row and the allocations (credits_settle); initialize locks the account and the
 * allocations (credits_hold) and then inserts its new session row, which nobody else can be waiting
 * on, and whose foreign key's KEY SHARE lock the account's NO KEY UPDATE locks never block. So none
 * of them deadlock with each other.
 *
 * The statement runs on its own (its own transaction: one round trip) or in the request's
 * Idempotency-Key transaction, like record's. A connection lost while it runs may have committed
 * it: OUTCOME_UNKNOWN, and a retry with the same Idempotency-Key (or, for finalize and abort, the
 * same request) tells which.
 */
@Injectable()
export class StreamingSessionsService {
  constructor(
    private readonly tx: Transactions,
    private readonly sessions: StreamingSessionsRepository,
    private readonly settlements: SessionSettlementsRepository,
    private readonly credits: CreditsService,
    private readonly quotes: SteppedQuotes,
    private readonly pricing: PricingService,
    private readonly usage: UsageService,
    private readonly payers: PayerService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly together: CoalescedHolds,
    private readonly settlingTogether: CoalescedSettlements,
  ) {}

  /**
   * `ttlSeconds`: how long the session may stay open (default STREAMING_SESSION_TTL_SECONDS);
   * `expiryExtras`: an in-process caller's record service and metadata should the expiry settle it.
   */
  async initialize(
    caller: AuthUser,
    dto: InitializeSessionDto,
    ttlSeconds?: number,
    expiryExtras: RecordExtras | null = null,
    /** A condition the hold's statement checks (ApiKeysRepository.stillAuthenticates): false, nothing opens. */
    onlyIf?: Condition,
  ): Promise<SessionResponseDto> {
    const payer = await this.payers.payer(caller, dto, dto.orgId);
    const tokens = meteredCounts(dto.estimatedTokens, dto, 'estimatedTokens');
    const dimensions = meteredDimensions(dto);
    const sessionId = dto.sessionId ?? randomUUID();
    const startedAt = new Date(this.clock.now());
    const expiresAt = new Date(startedAt.getTime() + (ttlSeconds ?? this.config.streamingSessionTtlSeconds) * 1000);
    // What the account may use and pays, from the pricing cache: no statement of its own.
    const { account } = payer;
    await this.pricing.assertEntitled(dto.modelId, payer.accountId, payer.keyModels);
    // `auto` holds at the rule's most expensive tier: the settlement gives back what a cheaper one leaves.
    const quote = await this.pricing.quote(dto.modelId, tokens.kinds, startedAt, payer.accountId, dimensions, true);
    // On a rule with volume steps: held at the step the account's period total would reach.
    const estimatedCredits = (await this.quotes.stepped(payer.accountId, dto.modelId, quote, tokens.kinds)).credits;
    const allocatedCredits = holdFor(estimatedCredits);

    const session = {
      sessionId,
      account,
      modelId: dto.modelId,
      estimatedTokens: tokens.total,
      estimateSplit: tokens.split,
      estimatedCredits,
      allocatedCredits,
      startedAt,
      expiresAt,
      pricingRuleId: quote.pricingRuleId,
      accountPriceId: quote.accountPriceId,
      serviceTier: dimensions.serviceTier,
      estimatedUnits: dimensions.units,
      openedBy: caller.userId,
      openedByApiKeyId: caller.apiKeyId ?? null,
      recordExtras: sessionRecordExtras(expiryExtras, dto.scopes),
    };
    // ONE statement: the credits module's hold (it locks the account, then the allocations) and the
    // session row, inserted only when the hold happened. A taken id moves nothing: the statement
    // checks it first, and a concurrent duplicate's unique violation rolls the whole statement back.
    // The row's foreign key takes KEY SHARE on the account row, which the movements' NO KEY UPDATE
    // locks never block, so the order of the two cannot deadlock. Shared with the initializations
    // that arrive with it (CoalescedHolds: through the same key, or with `onlyIf` through any), else
    // the request's transaction's. A zero estimate holds too: the hold row ties the session to the key
    // it counts against, and a used-up key budget or window refuses it (docs/trust-model.md: spend
    // controls count all a session spends).
    const held = await this.together.hold(
      {
        // An organisation's session holds on the org (the member's limit counts the hold) and settles there.
        accountId: payer.accountId,
        member: account.memberId,
        amount: allocatedCredits,
        refs: { createdBy: payer.createdBy, sessionId, apiKeyId: payer.apiKeyId },
        scopes: dto.scopes ?? null,
      },
      session,
      onlyIf,
    );
    // A refusal says whose it is (the payer's org and member), as a record's does.
    if (held && 'refused' in held) throw await this.credits.singleRefusal(held.refused, allocatedCredits, payer);
    if (!held?.row && onlyIf) throw new SessionNotOpened();
    if (!held?.row) throw new DomainError('SESSION_EXISTS', `Session ${sessionId} already exists`);
    return toSessionDto(held.row);
  }

  /**
   * `extras`: the record's service and metadata of an in-process caller (the gateway); `unwaited`:
   * nobody waits for the answer, so the commit does not wait for its flush (docs/gateway.md).
   */
  async finalize(caller: AuthUser, dto: FinalizeSessionDto, extras?: RecordExtras, unwaited = false) {
    const tokens = meteredCounts(dto.actualTokens, dto, 'actualTokens');
    const dimensions = meteredDimensions(dto);
    const success = dto.success ?? true;
    const source = sourceOf(dto, true, dimensions);
    const request: SettlementRequest = {
      kind: 'finalize',
      success,
      ...settlementTokens(tokens),
      ...requestSource(dto, dimensions),
    };
    const settled = await this.settleByCaller(
      caller,
      await this.payers.payer(caller, dto),
      dto.sessionId,
      { request, tokens, source, extras, unwaited },
      success ? 'completed' : 'failed',
    );
    return finalizeAnswer(settled);
  }

  /** `extras` and `unwaited`: as finalize's; `estimated`: counts of a worst case, not of use (usageSource). */
  async abort(caller: AuthUser, dto: AbortSessionDto, extras?: RecordExtras, unwaited = false, estimated = false) {
    // Without any count (tokensGenerated, the counts per kind or providerUsage) the abort charges 0
    // tokens, recorded as `estimated`: nobody reported what was used.
    const counted =
      dto.tokensGenerated !== undefined || hasKinds(dto) || dto.providerUsage !== undefined || dto.units !== undefined;
    const tokens = counted ? meteredCounts(dto.tokensGenerated, dto, 'tokensGenerated') : tokenCounts(0, {}, '');
    const dimensions = meteredDimensions(dto);
    const request: SettlementRequest = {
      kind: 'abort',
      ...settlementTokens(tokens),
      ...requestSource(dto, dimensions),
    };
    const source = sourceOf(dto, counted && !estimated, dimensions);
    const payer = await this.payers.payer(caller, dto);
    // An abort by another credential than the one that opened the session (a stuck session, stopped by
    // an operator) is audited, in the settlement's own statement: the opener's abort is metering.
    const audit = this.audit.inStatement('session.abort', this.settlements.abortAudit());
    const input = { request, tokens, source, extras, unwaited };
    return abortAnswer(await this.settleByCaller(caller, payer, dto.sessionId, input, 'aborted', audit));
  }

  /**
   * finalize / abort: ONE statement locks the caller's session, prices the tokens at the session's
   * rule and, while it is active, settles it (see `settle`). Otherwise nothing moved: a settled
   * session answers a retry of the same request and refuses any other; an unknown or another
   * user's → 404; an unpriceable model (strict) → 422; a charge beyond the credit range → 400.
   * Answers the settled session's columns.
   */
  private async settleByCaller(
    caller: AuthUser,
    payer: Payer,
    sessionId: string,
    { request, tokens, source, extras, unwaited }: SettlementInput,
    status: SettledStatus,
    audit: SqlPart | null = null,
  ): Promise<SettledSession> {
    const counts = settlementTokens(tokens);
    const plan: SettlementPlan = {
      status,
      request,
      tokens: counts,
      source,
      createdBy: payer.createdBy,
      metadata: {
        sessionId,
        tokens: tokens.total,
        ...(tokens.split ? { inputTokens: tokens.split.input, outputTokens: tokens.split.output } : {}),
        ...extras?.metadata,
      },
      service: extras?.service,
    };
    const userId = billedUser(payer.account);
    const by = { userId: caller.userId, apiKeyId: caller.apiKeyId ?? null };
    const dimensions = { serviceTier: source.serviceTier, units: source.units };
    // A finalize outside a transaction goes out with the others that arrive with it (CoalescedSettlements).
    const together = !audit && !this.tx.inTransaction;
    const name = `${audit ? 'streaming_session_abort' : 'streaming_session_settle'}${unwaited ? '_unwaited' : ''}`;
    const row = together
      ? await this.settlingTogether.settle({
          sessionId,
          userId,
          tokens,
          caller: by,
          dimensions,
          plan,
          unwaited: !!unwaited,
        })
      : await this.settle(
          this.tx.statementManager,
          name,
          this.settlements.lockToSettle(sessionId, userId, tokens.kinds, this.pricing.fallbackPrice(), by, dimensions, {
            tokens: tokens.total,
            expiryDays: this.config.corrections.expiryDays,
          }),
          plan,
          new Date(this.clock.now()),
          [...(audit ? [audit] : []), ...(unwaited ? [this.settlements.unflushed()] : [])],
        );
    if (!row) throw new NotFoundError('Session');
    const settled = settledColumns(row);
    if (row.settle && settled) return settled;
    if (settled) return replayOrConflict(row, settled, request);
    if (row.unknown_tier) throw unknownServiceTier(source.serviceTier!, row.model_id);
    if (row.unpriced_unit) throw unpricedUnit(row.unpriced_unit, row.model_id);
    if (row.charge === null) throw unknownModel(row.model_id);
    throw new DomainError('VALIDATION', 'The token count prices beyond the largest credit amount');
  }

  /**
   * The expiry job's settlement of a due session, in the caller's transaction: charged its estimate
   * (never more than the hold), created by `system`. Null when it was settled meanwhile or another
   * worker has it locked.
   */
  async expire(m: EntityManager, due: DueSession): Promise<SettledSession | null> {
    const settledAt = new Date(this.clock.now());
    const row = await this.settle(
      m,
      'streaming_session_expire',
      this.settlements.lockDueToExpire(due.session_id, due.user_id, this.config.corrections.expiryDays),
      {
        status: 'expired',
        request: { kind: 'expire' },
        // The estimate's kinds when it was given split (all five or none), as finalize records them.
        tokens: {
          tokens: due.estimated_tokens,
          ...perField((kind) => due[estimateColumn(kind)]),
        },
        source: { ...ESTIMATED, serviceTier: due.service_tier, units: due.estimated_units },
        createdBy: 'system',
        metadata: {
          sessionId: due.session_id,
          tokens: due.estimated_tokens,
          expiredAt: settledAt.toISOString(),
          ...due.record_extras?.metadata,
        },
        service: due.record_extras?.service,
      },
      settledAt,
    );
    return row?.settle ? settledColumns(row) : null;
  }

  /**
   * A member leaving an organisation with their sessions released (docs/orgs.md "Leaving",
   * `sessions=release`): each of `userId`'s open sessions on the org's account is aborted as cut off before any
   * token, one settlement statement each: nothing is charged, the hold goes back to the org's pool and
   * off the member's counter, and a later finalize of it answers 409 (ALREADY_SETTLED). Answers how
   * many it settled (one settled meanwhile by its own finalize or the expiry job is not counted). Call
   * it once the membership is removed, so no new session opens meanwhile (initialize refuses a removed
   * member under the org account's lock); `manager`: the caller's transaction, if any.
   */
  async releaseMemberSessions(
    { orgId, accountId }: { orgId: string; accountId: string },
    userId: string,
    by = 'system',
    manager: EntityManager = this.tx.statementManager,
  ): Promise<number> {
    let released = 0;
    for (const { session_id: sessionId } of await this.sessions.openOrgSessions(manager, accountId, userId)) {
      const row = await this.settle(
        manager,
        'streaming_session_release',
        this.settlements.lockToRelease(sessionId, userId, accountId, by),
        {
          status: 'aborted',
          request: { kind: 'abort', ...settlementTokens(tokenCounts(0, {}, '')), format: null, termination: null },
          tokens: settlementTokens(tokenCounts(0, {}, '')),
          source: { ...ESTIMATED, ...NO_DIMENSIONS },
          createdBy: by,
          metadata: { sessionId, tokens: 0, releasedFrom: orgId },
        },
      );
      if (row?.settle) released++;
    }
    return released;
  }

  /**
   * The one settlement of a session, as ONE statement (CreditsService.settleSession): `session`
   * locks and prices it; when it is to be settled, the credits module keeps up to the hold of the
   * charge and gives the rest back to the allocations it came from, takes an overrun from the
   * balance then the overdraft and answers the shortfall; the same statement writes the one usage
   * record (credits = what was collected, needs_review for a shortfall), marks the session settled
   * with its answer, and emits usage.needs_review for a shortfall.
   */
  private async settle(
    m: EntityManager,
    name: string,
    session: SqlPart,
    plan: SettlementPlan,
    settledAt = new Date(this.clock.now()),
    extraWrites: SqlPart[] = [],
  ): Promise<SettlingRow | null> {
    const usageRecordId = timeOrderedId();
    const record = this.usage.insertInStatement(
      {
        id: usageRecordId,
        service: plan.service ?? SERVICE_BY_STATUS[plan.status],
        ...plan.tokens,
        ...plan.source,
        metadata: plan.metadata,
      },
      this.settlements.recordValues(settledAt),
    );
    const mark = this.settlements.markSettled({
      status: plan.status,
      request: plan.request,
      settledAt,
      actualTokens: plan.request.kind === 'expire' ? null : plan.tokens.tokens,
      usageRecordId,
    });
    const result = await this.credits.settleSession<SettlingRow>(
      m,
      { createdBy: plan.createdBy, usageRecordId },
      { name, session, writes: [record, mark, this.settlements.needsReview(usageRecordId), ...extraWrites] },
    );
    return result && { ...result.row, settle: result.settlement !== null };
  }
}
