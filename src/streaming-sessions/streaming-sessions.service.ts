import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AuthUser } from '../auth/roles.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { MAX_CREDITS } from '../common/validation/amounts.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { CreditsService } from '../credits/credits.service.js';
import { Transactions } from '../database/transactions.js';
import { EventsService } from '../events/events.service.js';
import { PricingService } from '../pricing/pricing.service.js';
import { UsageService } from '../usage/usage.service.js';
import { AccountsService } from '../users/accounts.service.js';
import type { AbortSessionDto, FinalizeSessionDto, InitializeSessionDto } from './dto/session-requests.dto.js';
import type { AbortResponseDto, FinalizeResponseDto, SessionResponseDto } from './dto/session-responses.dto.js';
import type { SessionSettlement, SessionStatus, SettlementRequest } from './entities/streaming-session.entity.js';
import { durationSeconds, holdFor, sameRequest, type TokenCounts, tokenCounts } from './settlement.js';
import { type SessionRow, StreamingSessionsRepository, toSessionDto } from './streaming-sessions.repository.js';

export type SettledStatus = Exclude<SessionStatus, 'active'>;

const SERVICE_BY_STATUS: Record<SettledStatus, string> = {
  completed: 'chat-streaming',
  failed: 'chat-streaming-failed',
  aborted: 'chat-streaming-aborted',
  expired: 'chat-streaming-expired',
};

/** What a settlement is to charge, decided before the transaction (pricing reads outside it). */
export interface SettlementPlan {
  status: SettledStatus;
  request: SettlementRequest;
  /** Tokens billed (null for an expiry: the session never reported any). */
  tokens: TokenCounts | null;
  actualCredits: number;
  pricingRuleId: string | null;
  providerCost: string | null;
  createdBy: string;
}

interface SettlementResult {
  actualCredits: number;
  refund: number;
  shortfall: number;
}

/**
 * Streaming sessions: a hold of `ceil(estimate × 6/5)` credits while a chat answer streams, settled
 * exactly once at its real price (finalize / abort) or at its estimate when abandoned (expiry job).
 *
 * Lock order: settlements (finalize, abort, expiry) lock the session row first, then the user's
 * account row (CreditsService takes it); initialize locks the account and then inserts its new
 * session row, which nobody else can hold yet. So none of them deadlock with each other. Prices are read before the
 * transaction opens, so a transaction never waits for a second pool connection.
 */
@Injectable()
export class StreamingSessionsService {
  constructor(
    private readonly tx: Transactions,
    private readonly sessions: StreamingSessionsRepository,
    private readonly credits: CreditsService,
    private readonly pricing: PricingService,
    private readonly usage: UsageService,
    private readonly accounts: AccountsService,
    private readonly events: EventsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async initialize(caller: AuthUser, dto: InitializeSessionDto): Promise<SessionResponseDto> {
    const tokens = tokenCounts(dto.estimatedTokens, dto.inputTokens, dto.outputTokens, 'estimatedTokens');
    const sessionId = dto.sessionId ?? randomUUID();
    const startedAt = new Date();
    const expiresAt = new Date(startedAt.getTime() + this.config.streamingSessionTtlSeconds * 1000);
    const quote = await this.pricing.quote(dto.modelId, tokens.quote, startedAt);
    const estimatedCredits = quote.credits;
    const allocatedCredits = holdFor(estimatedCredits);

    const session = {
      sessionId,
      userId: caller.userId,
      modelId: dto.modelId,
      estimatedTokens: tokens.total,
      estimatedCredits,
      allocatedCredits,
      startedAt,
      expiresAt,
      pricingRuleId: quote.pricingRuleId,
    };
    // ONE statement: the credits module's hold (it locks the account, then the allocations) and the
    // session row, inserted only when the hold happened. A taken id moves nothing: the statement
    // checks it first, and a concurrent duplicate's unique violation rolls the whole statement back.
    // The row's foreign key takes KEY SHARE on the account row, which the movements' NO KEY UPDATE
    // locks never block, so the order of the two cannot deadlock. See settleByCaller on why the
    // statement runs in a transaction.
    return this.tx.run(async (m) => {
      const row =
        allocatedCredits > 0
          ? await this.credits
              .holdAndInsert<SessionRow>(
                m,
                {
                  userId: caller.userId,
                  amount: allocatedCredits,
                  refs: { createdBy: caller.userId, sessionId, apiKeyId: caller.apiKeyId },
                },
                this.sessions.insertAfterHold(session),
              )
              .then((held) => held?.row ?? null)
          : await this.sessions.insert(m, session);
      if (!row) throw new DomainError('CONFLICT', `Session ${sessionId} already exists`);
      return toSessionDto(row);
    });
  }

  async finalize(caller: AuthUser, dto: FinalizeSessionDto): Promise<FinalizeResponseDto> {
    const tokens = tokenCounts(dto.actualTokens, dto.inputTokens, dto.outputTokens, 'actualTokens');
    const success = dto.success ?? true;
    const request: SettlementRequest = {
      kind: 'finalize',
      success,
      tokens: tokens.total,
      inputTokens: tokens.inputTokens,
      outputTokens: tokens.outputTokens,
    };
    const response = await this.settleByCaller(
      caller,
      dto.sessionId,
      request,
      tokens,
      success ? 'completed' : 'failed',
    );
    return response as unknown as FinalizeResponseDto;
  }

  async abort(caller: AuthUser, dto: AbortSessionDto): Promise<AbortResponseDto> {
    const tokens = tokenCounts(
      dto.tokensGenerated ?? (dto.inputTokens === undefined && dto.outputTokens === undefined ? 0 : undefined),
      dto.inputTokens,
      dto.outputTokens,
      'tokensGenerated',
    );
    const request: SettlementRequest = {
      kind: 'abort',
      tokens: tokens.total,
      inputTokens: tokens.inputTokens,
      outputTokens: tokens.outputTokens,
    };
    const response = await this.settleByCaller(caller, dto.sessionId, request, tokens, 'aborted');
    return response as unknown as AbortResponseDto;
  }

  /** The caller's active sessions (`userId` given: that user's, after the controller's role check). */
  /** finalize / abort: price outside the transaction, then lock, check and settle once. */
  private async settleByCaller(
    caller: AuthUser,
    sessionId: string,
    request: SettlementRequest,
    tokens: TokenCounts,
    status: SettledStatus,
  ): Promise<Record<string, unknown>> {
    // The model and start time never change, so they can be read before the lock to price the tokens.
    // (Joining the request's Idempotency-Key transaction when there is one: no second connection.)
    const found = await this.sessions.findOwn(this.tx.statementManager, sessionId, caller.userId, 'none');
    if (!found) throw new NotFoundError('Session');
    if (found.status !== 'active') return this.replayOrConflict(found, request);

    const quote = await this.pricing.quote(found.model_id, tokens.quote, found.started_at);
    if (quote.credits > MAX_CREDITS) {
      throw new DomainError('VALIDATION', `The tokens price above the largest credit amount (${MAX_CREDITS})`);
    }
    return this.tx.run(async (m) => {
      const session = await this.sessions.findOwn(m, sessionId, caller.userId, 'for-update');
      if (!session) throw new NotFoundError('Session');
      if (session.status !== 'active') return this.replayOrConflict(session, request);
      return this.settleLocked(m, session, {
        status,
        request,
        tokens,
        actualCredits: quote.credits,
        pricingRuleId: quote.pricingRuleId,
        providerCost: quote.providerCost,
        createdBy: caller.userId,
      });
    });
  }

  /** A settled session answers the identical request again (a retry) and refuses anything else. */
  private replayOrConflict(session: SessionRow, request: SettlementRequest): Record<string, unknown> {
    if (session.settlement && sameRequest(session.settlement.request, request)) return session.settlement.response;
    throw new DomainError('ALREADY_SETTLED', `Session ${session.session_id} is already ${session.status}`, {
      sessionId: session.session_id,
      status: session.status,
    });
  }

  /**
   * The one settlement of a locked, active session: what was held pays up to the hold and the rest
   * goes back to the allocations it came from; an overrun is taken from the balance as far as it
   * goes and the remainder recorded as shortfall; one usage record says what was collected.
   */
  /** Settles a session whose row the caller has locked, in the caller's transaction. */
  async settleLocked(m: EntityManager, session: SessionRow, plan: SettlementPlan): Promise<Record<string, unknown>> {
    const userId = session.user_id;
    const sessionId = session.session_id;
    const usageRecordId = randomUUID();
    const refs = { createdBy: plan.createdBy, sessionId, usageRecordId };
    const charge = plan.actualCredits;

    const held =
      session.allocated_credits > 0
        ? await this.credits.settleHold(m, userId, sessionId, charge, refs)
        : { charged: 0, refund: 0, apiKeyId: null };
    const overrun = charge - held.charged;
    // The overrun is owed, not asked: taken from the balance, then the overdraft; the rest is a
    // shortfall for the review queue. It counts against the key the hold counted against.
    const paid =
      overrun > 0 ? await this.credits.debitUpTo(m, userId, overrun, { ...refs, apiKeyId: held.apiKeyId }) : null;
    const shortfall = paid ? overrun - paid.collected - paid.debt : 0;
    const collected = charge - shortfall;
    const settledAt = new Date();

    const tokens = plan.tokens;
    const billedTokens = tokens ? tokens.total : session.estimated_tokens;
    await this.usage.createRecord(m, {
      id: usageRecordId,
      userId,
      service: SERVICE_BY_STATUS[plan.status],
      operation: session.model_id,
      modelId: session.model_id,
      credits: collected,
      tokens: billedTokens,
      inputTokens: tokens?.inputTokens ?? null,
      outputTokens: tokens?.outputTokens ?? null,
      pricingRuleId: plan.pricingRuleId,
      providerCost: plan.providerCost,
      billingStatus: shortfall > 0 ? 'needs_review' : 'billed',
      shortfall,
      metadata: {
        sessionId,
        tokens: billedTokens,
        ...(tokens?.inputTokens !== null && tokens?.inputTokens !== undefined
          ? { inputTokens: tokens.inputTokens, outputTokens: tokens.outputTokens }
          : {}),
        estimatedCredits: session.estimated_credits,
        actualCredits: charge,
        shortfall,
        durationSeconds: durationSeconds(session.started_at, settledAt),
        ...(plan.status === 'expired' ? { expiredAt: settledAt.toISOString() } : {}),
      },
    });

    if (shortfall > 0) await this.events.emit(m, 'usage.needs_review', { userId, usageRecordId, shortfall });

    const result: SettlementResult = { actualCredits: charge, refund: held.refund, shortfall };
    const response = this.responseFor(session, plan.status, result);
    const settlement: SessionSettlement = { request: plan.request, response };
    await this.sessions.markSettled(m, sessionId, {
      status: plan.status,
      settledAt,
      actualTokens: tokens ? tokens.total : null,
      actualCredits: charge,
      refund: held.refund,
      shortfall,
      usageRecordId,
      pricingRuleId: plan.pricingRuleId,
      settlement,
    });
    return response;
  }

  private responseFor(session: SessionRow, status: SettledStatus, r: SettlementResult): Record<string, unknown> {
    if (status === 'aborted') {
      return {
        sessionId: session.session_id,
        status,
        partialCredits: r.actualCredits,
        refund: r.refund,
        shortfall: r.shortfall,
      };
    }
    return {
      sessionId: session.session_id,
      status,
      estimatedCredits: session.estimated_credits,
      allocatedCredits: session.allocated_credits,
      actualCredits: r.actualCredits,
      refund: r.refund,
      shortfall: r.shortfall,
    };
  }
}
