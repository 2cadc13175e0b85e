import { Inject, Injectable } from '@nestjs/common';

import { CLOCK, type Clock } from '../common/clock.js';
import { timeOrderedId } from '../common/time-ordered-id.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Coalescer } from '../database/coalescer.js';
import { statementRolledBack } from '../database/statement-errors.js';
import { Transactions } from '../database/transactions.js';
import { CreditsService, type SettledSessionAnswer } from '../engine/credits.service.js';
import type { Dimensions } from '../pricing/dimensions.js';
import { PricingService } from '../pricing/pricing.service.js';
import type { TokenCounts } from '../pricing/token-counts.js';
import { TOKEN_KINDS, tokenColumn } from '../pricing/token-kinds.js';
import { UsageService } from '../usage/usage.service.js';
import { recordInput } from '../usage/usage-records.repository.js';
import type { SettlingRow } from './session-settlements.repository.js';
import {
  lockManyToSettle,
  MARK_SETTLED_MANY,
  NEEDS_REVIEW_MANY,
  recordValuesMany,
  SETTLE_INPUT_COLUMNS,
  UNFLUSHED_MANY,
} from './session-settlements-many.sql.js';
import { SERVICE_BY_STATUS, type SettlementPlan } from './settlement-plan.js';

/** One finalize's settlement, as settleByCaller plans it. */
export interface SettlementItem {
  sessionId: string;
  /** The billed user whose session it is. */
  userId: string;
  tokens: TokenCounts;
  caller: { userId: string; apiKeyId: string | null };
  dimensions: Dimensions;
  plan: SettlementPlan;
  /** Whether nobody waits for the answer: its statement commits without waiting for the flush. */
  unwaited: boolean;
}

/**
 * Finalizes per statement, and statements in flight per lane, as the records' and the holds': one in
 * flight lets the ones that arrive meanwhile wait for it and go out together.
 */
const MAX_BATCH = 64;
const MAX_IN_FLIGHT = 1;
/** The lanes: finalizes someone waits for, and those nobody does (the gateway's), committed unflushed. */
const laneOf = (item: SettlementItem): string => (item.unwaited ? 'unwaited' : 'waited');

/**
 * POST /api/streaming-sessions/finalize outside a request's transaction, and the gateway's finalize
 * (docs/money.md "Finalizes that arrive together"): the finalizes that arrive together, of any
 * sessions and accounts, are settled by ONE statement, each exactly as alone (the same session lock,
 * price, settlement, record, stored answer and event), every account locked once, in account id
 * order. Each answers its own row (or none: an unknown session); a statement the server refused as a
 * whole is sent again one finalize at a time (src/database/coalescer.ts). A second finalize of a
 * session already on its way waits for the first's statement, and then finds it settled: one
 * statement never carries a session twice.
 */
@Injectable()
export class CoalescedSettlements {
  private readonly coalescer = new Coalescer<SettlementItem, Exclude<SettledSessionAnswer<SettlingRow>, Error>>(
    (key, items) => this.send(key, items),
    { maxBatch: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT, retryAlone: statementRolledBack },
  );
  /** Finalizes on their way, by user and session: the statement each went out in. */
  private readonly settling = new Map<string, Promise<void>>();

  constructor(
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(CreditsService) private readonly credits: CreditsService,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The settlement's row, as StreamingSessionsService.settle answers it alone (null: no such session). */
  async settle(item: SettlementItem): Promise<SettlingRow | null> {
    const key = `${item.userId}\u0000${item.sessionId}`;
    for (let first = this.settling.get(key); first; first = this.settling.get(key)) await first;
    const sent = this.coalescer.submit(laneOf(item), item);
    const done = sent.then(
      () => undefined,
      () => undefined,
    );
    this.settling.set(key, done);
    void done.then(() => this.settling.get(key) === done && this.settling.delete(key));
    const result = await sent;
    return result && { ...result.row, settle: result.settlement !== null };
  }

  /** One statement for the finalizes of one lane: one alone is a batch of one. */
  private send(lane: string, items: SettlementItem[]): Promise<SettledSessionAnswer<SettlingRow>[]> {
    const records = this.usage.insertManyInStatement(recordValuesMany());
    const unwaited = lane === 'unwaited';
    return this.credits.settleSessions<SettlingRow>(this.tx.statementManager, {
      name: unwaited ? 'streaming_session_settle_many_unwaited' : 'streaming_session_settle_many',
      columns: SETTLE_INPUT_COLUMNS,
      items: items.map((item) => this.input(item)),
      session: lockManyToSettle(this.pricing.fallbackPrice(), this.config.corrections.expiryDays),
      writes: [
        { sql: records, match: 'w.inserted_record_id = i.usage_record_id' },
        { sql: MARK_SETTLED_MANY, match: 'w.marked_ord = i.ord' },
        { sql: NEEDS_REVIEW_MANY, match: 'w.review_ord = i.ord' },
        ...(unwaited ? [{ sql: UNFLUSHED_MANY, match: 'true' }] : []),
      ],
    });
  }

  /** A finalize's row of the statement's input (SETTLE_INPUT_COLUMNS). */
  private input({ sessionId, userId, tokens, caller, dimensions, plan }: SettlementItem): Record<string, unknown> {
    const usageRecordId = timeOrderedId();
    const row: Record<string, unknown> = {
      session_id: sessionId,
      user_id: userId,
      caller_id: caller.userId,
      caller_key: caller.apiKeyId,
      price_tier: dimensions.serviceTier,
      price_units: dimensions.units,
      total: tokens.total,
      created_by: plan.createdBy,
      usage_record_id: usageRecordId,
      status: plan.status,
      settled_at: new Date(this.clock.now()),
      actual_tokens: plan.tokens.tokens,
      request: plan.request,
      ...recordInput({
        id: usageRecordId,
        service: plan.service ?? SERVICE_BY_STATUS[plan.status],
        ...plan.tokens,
        ...plan.source,
        metadata: plan.metadata,
      }),
    };
    for (const kind of TOKEN_KINDS) row[`price_${tokenColumn(kind)}`] = tokens.kinds[kind];
    return row;
  }
}
