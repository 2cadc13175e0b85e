import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { Payer } from '../accounts/payer.js';
import { PayerService } from '../accounts/payer.service.js';
import type { AuthUser } from '../auth/roles.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { currentRequest } from '../common/logging/logger.js';
import { timeOrderedId } from '../common/time-ordered-id.js';
import { MAX_CREDITS } from '../common/validation/amounts.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { SqlPart } from '../database/statement-parts.js';
import { Transactions } from '../database/transactions.js';
import { CreditsService } from '../engine/credits.service.js';
import { KeyedAnswers, type StatementKey } from '../idempotency/statement-key.js';
import type { PriceSource } from '../pricing/catalog/catalog-pricing.js';
import { PricingService } from '../pricing/pricing.service.js';
import { meteredCounts, meteredDimensions } from '../pricing/provider-usage.js';
import { hasKinds, MODEL_KINDS, splitFields } from '../pricing/token-counts.js';
import { type VolumeCharge, volumeCharge } from '../pricing/volume-steps.js';
import { CoalescedRecords, RECORD_STATEMENT, type Recorded } from './coalesced-records.js';
import { metadataProblem, type RecordUsageDto, type UsageRecordResponseDto } from './dto/record-usage.dto.js';
import { occurredAtIn } from './late-usage.js';
import { type CreateUsageRecordInput, UsageRecordsRepository } from './usage-records.repository.js';

/** The checks createRecord makes on what other modules pass (the route's DTO has checked them already). */
function checkRecordInput(input: CreateUsageRecordInput): void {
  if (!Number.isInteger(input.credits) || input.credits < 0 || input.credits > MAX_CREDITS) {
    throw new DomainError('VALIDATION', `credits must be an integer between 0 and ${MAX_CREDITS}`);
  }
  if (input.metadata !== undefined) {
    const problem = metadataProblem(input.metadata);
    if (problem) throw new DomainError('VALIDATION', problem);
  }
}

/** Recording usage: the metered debit of POST /api/usage/record, and records for other modules. */
@Injectable()
export class UsageService {
  constructor(
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(CreditsService) private readonly credits: CreditsService,
    private readonly records: UsageRecordsRepository,
    private readonly payers: PayerService,
    @Inject(CoalescedRecords) private readonly coalesced: CoalescedRecords,
    @Inject(KeyedAnswers) private readonly keyed: KeyedAnswers,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A record's INSERT inside another module's statement: see UsageRecordsRepository.insertInStatement. */
  insertInStatement(...args: Parameters<UsageRecordsRepository['insertInStatement']>): SqlPart {
    return this.records.insertInStatement(...args);
  }

  /** The records' INSERT inside another module's statement of many: see UsageRecordsRepository.insertManyInStatement. */
  insertManyInStatement(...args: Parameters<UsageRecordsRepository['insertManyInStatement']>): string {
    return this.records.insertManyInStatement(...args);
  }

  /**
   * Checks a record's fields and prices it (when no credits are given) at the price in effect for its
   * account (an account price over the model's rule): the record to insert, with its id chosen first
   * so the debit's ledger entries can point at it. A model that a list in force does not allow (the
   * keys' `keyModels`, the paying org's, the plan's) → MODEL_NOT_ENTITLED, from the cache: no statement.
   */
  async prepare(
    payer: Pick<Payer, 'account' | 'accountId' | 'actor' | 'keyModels'>,
    dto: Omit<RecordUsageDto, 'orgId'>,
  ): Promise<CreateUsageRecordInput & { id: string }> {
    const { account, accountId, actor, keyModels } = payer;
    // The one token-split rule (tokenCounts), or the provider's usage mapped (never beside credits); a
    // record with credits may give no tokens at all.
    const fromProvider = dto.providerUsage !== undefined;
    if (fromProvider && dto.credits !== undefined)
      throw new DomainError('VALIDATION', 'Give either credits or providerUsage, not both');
    const given = dto.tokens !== undefined || hasKinds(dto) || fromProvider || dto.units !== undefined;
    const counts = given ? meteredCounts(dto.tokens, dto, 'tokens') : null;
    const dimensions = meteredDimensions(dto);
    const tokens = counts?.total ?? null;
    // Cache and reasoning counts mean something only at a model's prices.
    if (!dto.modelId && MODEL_KINDS.some((field) => dto[field] !== undefined)) {
      throw new DomainError('VALIDATION', 'cacheReadTokens, cacheWriteTokens and reasoningTokens need a modelId');
    }

    // Late usage (docs/usage.md "Late usage"): priced by the rule and account price in force when it
    // occurred; the credits are taken now, as for any record.
    const occurred =
      dto.occurredAt === undefined
        ? null
        : occurredAtIn(dto.occurredAt, this.clock.now(), this.config.corrections.lateUsageDays);
    await this.pricing.assertEntitled(dto.modelId || null, accountId, keyModels);
    let credits = dto.credits;
    let pricingRuleId: string | null = null;
    let priceSource: PriceSource | null = null;
    let accountPriceId: string | null = null;
    let providerCost: string | null = null;
    let volume: VolumeCharge | null = null;
    if (credits === undefined) {
      if (!dto.modelId || counts === null) {
        throw new DomainError(
          'VALIDATION',
          'Without credits, modelId and tokens (or inputTokens and outputTokens, or providerUsage, or units) are required',
        );
      }
      const at = occurred === null ? undefined : new Date(occurred.ms);
      const quote = await this.pricing.quote(dto.modelId, counts.kinds, at, accountId, dimensions);
      credits = quote.credits;
      pricingRuleId = quote.pricingRuleId;
      priceSource = quote.priceSource;
      accountPriceId = quote.accountPriceId;
      providerCost = quote.providerCost;
      if (quote.volume !== null) {
        const expiryDays = this.config.corrections.expiryDays;
        volume = volumeCharge(dto.modelId, quote.volume, counts.total, occurred?.iso ?? null, expiryDays);
      }
    }
    const input = {
      id: timeOrderedId(),
      account,
      accountId,
      service: dto.service,
      operation: dto.operation,
      credits,
      modelId: dto.modelId ?? null,
      tokens,
      ...splitFields(counts?.split ?? null),
      metadata: dto.metadata,
      pricingRuleId,
      priceSource,
      providerCost,
      usageSource: fromProvider ? ('provider' as const) : ('reported' as const),
      providerUsage: dto.providerUsage ?? null,
      apiKeyId: actor.apiKeyId,
      actorId: actor.actorId,
      creditsNamed: dto.credits !== undefined,
      requestId: dto.credits !== undefined && actor.actorId ? requestIdNow() : null,
      accountPriceId,
      serviceTier: dimensions.serviceTier,
      units: dimensions.units,
      ...(occurred === null ? {} : { occurredAt: occurred.iso }),
      ...(volume === null ? {} : { volume }),
      ...(dto.scopes ? { scopes: dto.scopes } : {}),
    };
    checkRecordInput(input);
    return input;
  }

  /**
   * Prices (when no credits are given), debits and records in ONE transaction; a short balance
   * throws before anything is written and rolls the transaction back (402). With an `eventId` that
   * the caller used before (here or in a batch), nothing happens and the original record is answered
   * (`replayed`).
   */
  async record(caller: AuthUser, dto: RecordUsageDto, key?: StatementKey): Promise<Recorded> {
    const payer = await this.payers.payer(caller, dto, dto.orgId);
    const input = await this.prepare(payer, dto);
    // Outside a request's transaction, a record goes with the records that arrive with it: the same
    // statement, with more events, each eventId claimed in its writer's namespace.
    // With an Idempotency-Key, that statement claims the key and stores its answer with the record.
    if (!this.tx.inTransaction) {
      const recorded = await this.coalesced.record(payer, dto.eventId ?? null, input, key);
      // An eventId used before: nothing written, so the key's answer (the first record, 200) is stored
      // as the interceptor would store it, unless one is already.
      if (key === undefined || !recorded.replayed || recorded.status !== undefined) return recorded;
      const stored = await this.keyed.save(key, 200, recorded.record);
      return stored
        ? { record: stored.body as UsageRecordResponseDto, replayed: true, status: stored.status }
        : recorded;
    }
    return this.recordOne(this.tx.statementManager, payer, dto.eventId ?? null, input);
  }

  /**
   * A record as a batch of one (docs/money.md "The take"): the batch take's statement with one event,
   * in the writer's event-id namespace (the caller's, as in a batch: a service's ids are its own
   * whichever user they bill), with or without an eventId. ONE statement, so it is its own
   * transaction (or joins the request's idempotency transaction): the take locks the account, debits
   * FIFO with ledger lines that point at the record, and the record is inserted only when the debit
   * happened; a refusal writes nothing and throws its error. A created record is answered from the
   * statement (its timestamp, metadata and provider usage): one round trip. Only a duplicate reads the
   * first record back, in a statement of its own, which sees the batch that claimed the id and
   * committed meanwhile.
   */
  private async recordOne(
    manager: EntityManager,
    payer: Payer,
    eventId: string | null,
    input: CreateUsageRecordInput & { id: string },
  ): Promise<{ record: UsageRecordResponseDto; replayed: boolean }> {
    const [outcome] = await this.credits.debitAndInsertMany(
      manager,
      { apiKeyId: payer.apiKeyId },
      this.records.batchParts(payer.createdBy, [{ eventId, input }], {
        label: RECORD_STATEMENT,
        answer: true,
        createdBy: payer.createdBy,
      }),
    );
    return this.coalesced.answer(manager, payer, input, outcome);
  }
}

/**
 * The X-Request-Id of the request being served, which a record that is an audit entry keeps (credits
 * named by a principal for another account: metering is its own audit trail, docs/audit.md).
 */
function requestIdNow(): string | null {
  return (currentRequest() as { id?: string } | undefined)?.id ?? null;
}
