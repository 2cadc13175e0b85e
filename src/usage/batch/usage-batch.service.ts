import { Inject, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

import { billedUser, payingOrgOf } from '../../accounts/account-ref.js';
import { ErasedAccounts } from '../../accounts/erased-accounts.js';
import { payerOf, type PayerParty } from '../../accounts/payer.js';
import { PayerService } from '../../accounts/payer.service.js';
import type { AuthUser } from '../../auth/roles.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { Transactions } from '../../database/transactions.js';
import type { BatchOutcome } from '../../engine/credits.service.js';
import { CreditsService } from '../../engine/credits.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import {
  BatchEventDto,
  type BatchEventResultDto,
  type RecordBatchDto,
  type RecordBatchResponseDto,
} from '../dto/record-batch.dto.js';
import { UsageService } from '../usage.service.js';
import type { CreateUsageRecordInput } from '../usage-records.repository.js';
import { UsageRecordsRepository } from '../usage-records.repository.js';
import { quickBatchEvent } from './batch-event-check.js';

/** A batch event as checked: its id, its payer and the record's fields. */
type CheckedEvent = {
  eventId: string;
  payer: PayerParty;
  record: Omit<BatchEventDto, 'eventId' | 'userId' | 'orgId'>;
};

type Prepared = {
  index: number;
  eventId: string;
  input: CreateUsageRecordInput & { id: string };
};

/**
 * How many statements a batch outside a transaction is written in, side by side (each account's
 * events in one of them): a batch locks every account it charges until it commits, so batches that
 * share accounts wait for each other whole; in parts, the parts of two batches that charge different
 * accounts run at once. Two, as the cores of the machine it was measured on: 4 clients × 1,000-event
 * batches over 1,000 users went from 10,500–11,200 to 13,400–13,700 events/s (three or four parts:
 * no faster). docs/money.md "The batch take".
 */
export const BATCH_PARTS = 2;
const PART_MIN = 32;

/**
 * The events split into `n` parts by the account they charge (its id, as the payer resolved it): every
 * event of one account in the same part, in array order. One part below PART_MIN events a part: there
 * a statement's fixed cost weighs more than the wait for another batch's locks.
 */
export function partsByAccount<T extends { input: { accountId?: string | null } }>(items: T[], n: number): T[][] {
  if (n <= 1 || items.length < PART_MIN * n) return [items];
  const parts: T[][] = Array.from({ length: n }, () => []);
  for (const item of items) {
    const key = item.input.accountId ?? '';
    let hash = 0;
    for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0;
    parts[(hash >>> 0) % n].push(item);
  }
  return parts.filter((part) => part.length > 0);
}

/** The messages of class-validator's errors, nested ones included. */
function messages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => [...Object.values(e.constraints ?? {}), ...messages(e.children ?? [])]);
}

/**
 * POST /api/usage/records/batch (docs/money.md "The batch take"): each event is checked and priced on
 * its own (a bad one is `invalid`, the rest proceed), then every valid event goes to the credits
 * module's batch take in array order: in BATCH_PARTS statements side by side, each account's events
 * in one of them and each statement its own transaction; in the request's Idempotency-Key
 * transaction, ONE statement of it, so the batch commits or fails as a whole.
 */
@Injectable()
export class UsageBatchService {
  constructor(
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(CreditsService) private readonly credits: CreditsService,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    private readonly records: UsageRecordsRepository,
    @Inject(ErasedAccounts) private readonly erased: ErasedAccounts,
    @Inject(PayerService) private readonly payers: PayerService,
  ) {}

  async recordBatch(caller: AuthUser, body: RecordBatchDto): Promise<RecordBatchResponseDto> {
    const results: BatchEventResultDto[] = body.events.map((raw) => ({
      eventId:
        typeof (raw as { eventId?: unknown })?.eventId === 'string' ? (raw as { eventId: string }).eventId : null,
      status: 'invalid',
    }));
    const accepted: Prepared[] = [];
    /** eventId → index of its first valid event in this batch (later ones answer as duplicates of it). */
    const firstOf = new Map<string, number>();
    const repeats: { index: number; first: number }[] = [];
    const checked: { index: number; event: CheckedEvent }[] = [];
    for (const [index, raw] of body.events.entries()) {
      const event = this.check(caller, raw);
      if (typeof event === 'string') results[index].error = event;
      else checked.push({ index, event });
    }
    // Each event's paying account, resolved here, at the edge, for all of them at once (no statement
    // for the accounts this instance knows): pricing reads the account's prices by it, and the take
    // charges it.
    const accountIds = await this.payers.accountsOf(checked.map(({ event }) => event.payer.account));
    for (const [i, { index, event }] of checked.entries()) {
      const prepared = await this.price(event, accountIds[i]);
      if (typeof prepared === 'string') {
        results[index].error = prepared;
        continue;
      }
      const first = firstOf.get(prepared.eventId);
      if (first !== undefined) {
        repeats.push({ index, first });
        continue;
      }
      firstOf.set(prepared.eventId, index);
      accepted.push({ index, ...prepared });
    }

    // In an Idempotency-Key transaction the batch is one statement of it (its answer is stored with
    // it); otherwise each part is a statement and a transaction of its own, sent side by side.
    const parts = this.tx.inTransaction ? [accepted] : partsByAccount(accepted, BATCH_PARTS);
    const settled = await Promise.allSettled(parts.map((part) => this.takePart(caller, part)));
    // Every part has finished before the answer: a part that failed fails the request (the others
    // stay recorded; the same batch sent again answers them as duplicates).
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const outcomes = settled.map((s) => (s as PromiseFulfilledResult<BatchOutcome[]>).value);
    parts.forEach((part, p) =>
      part.forEach((item, i) => {
        results[item.index] = this.result(item, outcomes[p][i]);
      }),
    );
    for (const { index, first } of repeats) {
      const original = results[first];
      results[index] = original.usageRecordId
        ? { eventId: results[index].eventId, status: 'duplicate', usageRecordId: original.usageRecordId }
        : {
            eventId: results[index].eventId,
            status: 'invalid',
            error: `eventId repeats event ${first} of this batch, which was not recorded`,
          };
    }
    const count = (status: BatchEventResultDto['status']) => results.filter((r) => r.status === status).length;
    const created = count('created');
    const duplicates = count('duplicate');
    return { created, duplicates, rejected: results.length - created - duplicates, results };
  }

  /**
   * One part's events through the credits module's batch take, in ONE statement. A record naming
   * credits for another account is its own audit entry (docs/audit.md): nothing more is written.
   */
  private async takePart(caller: AuthUser, part: Prepared[]): Promise<BatchOutcome[]> {
    if (part.length === 0) return [];
    return this.credits.debitAndInsertMany(
      this.tx.statementManager,
      { apiKeyId: caller.apiKeyId },
      this.records.batchParts(caller.userId, part, { label: 'usage_batch', createdBy: caller.userId }),
    );
  }

  /** The event checked, with its payer, or what is wrong with it. */
  private check(caller: AuthUser, raw: unknown): CheckedEvent | string {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'an event must be a JSON object';
    let event = quickBatchEvent(raw);
    if (!event) {
      event = plainToInstance(BatchEventDto, raw);
      const errors = messages(validateSync(event, { whitelist: true, forbidNonWhitelisted: true }));
      if (errors.length > 0) return errors.join('; ');
    }
    // The record's fields: the payer reads the billed user (`userId`) from the event itself.
    const { eventId, userId: _billed, orgId, ...record } = event;
    try {
      // The event's payer (docs/trust-model.md): the billed user and the org that pays for them, if one
      // does (the engine checks the membership per event); a batch event names no key, so the batch
      // counts against the calling key.
      const payer = payerOf(caller, event, orgId);
      this.erased.assertNotErased(billedUser(payer.account));
      return { eventId, payer, record };
    } catch (error) {
      if (error instanceof DomainError) return refusal(error);
      throw error;
    }
  }

  /** The checked event priced for its account (`accountId`, null: none), or what is wrong with it. */
  private async price(event: CheckedEvent, accountId: string | null): Promise<Omit<Prepared, 'index'> | string> {
    try {
      return { eventId: event.eventId, input: await this.usage.prepare({ ...event.payer, accountId }, event.record) };
    } catch (error) {
      if (error instanceof DomainError) return refusal(error);
      throw error;
    }
  }

  private result(item: Prepared, outcome: BatchOutcome): BatchEventResultDto {
    const eventId = item.eventId;
    switch (outcome.status) {
      case 'created':
        return {
          eventId,
          status: 'created',
          usageRecordId: outcome.usageRecordId,
          // on a rule with volume steps the take decided the credits: what it took (a strict debit's all)
          credits: item.input.volume ? outcome.collected + outcome.debt : item.input.credits,
        };
      case 'duplicate':
        return outcome.usageRecordId
          ? { eventId, status: 'duplicate', usageRecordId: outcome.usageRecordId }
          : { eventId, status: 'duplicate' };
      case 'keyed':
        throw new Error('A batch event carries no Idempotency-Key of its own');
      case 'refused': {
        const { code } = outcome.error;
        if (code === 'INSUFFICIENT_CREDITS') this.tx.afterCommit(() => this.metrics.insufficientCredits());
        // An event naming an org that does not exist answers as one whose member the user is not.
        const { account } = item.input;
        if (code === 'NOT_A_MEMBER' || (code === 'NOT_FOUND' && account.kind === 'org')) {
          const error = `NOT_A_MEMBER: ${billedUser(account)} is not an active member of ${payingOrgOf(account)}`;
          return { eventId, status: 'invalid', error };
        }
        return code === 'NOT_FOUND'
          ? { eventId, status: 'invalid', error: refusal(outcome.error) }
          : { eventId, status: 'insufficient_credits', credits: item.input.credits, error: refusal(outcome.error) };
      }
    }
  }
}

/** A refused event's `error`: its code, then what it says (docs/errors.md "The batch route"). */
function refusal(error: DomainError): string {
  return `${error.code}: ${error.message}`;
}
