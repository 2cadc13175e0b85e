import { Inject, Injectable } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';

import type { BilledParty } from '../auth/metering.js';
import { connectionProblem } from '../common/errors/connection-errors.js';
import { DomainError } from '../common/errors/domain-error.js';
import { CreditsService } from '../credits/credits.service.js';
import type { BatchOutcome } from '../credits/credits-batch.js';
import { Coalescer } from '../database/coalescer.js';
import { Transactions } from '../database/transactions.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { UsageRecordResponseDto } from './dto/record-usage.dto.js';
import {
  type CreateUsageRecordInput,
  insertedRecord,
  type InsertedRecordSqlRow,
  toRecordDto,
  UsageRecordsRepository,
} from './usage-records.repository.js';

/** What the record route answers. */
type Recorded = { record: UsageRecordResponseDto; replayed: boolean };

interface Pending {
  billed: BilledParty;
  input: CreateUsageRecordInput & { id: string };
  /** The record as one alone sends it (the single take's statement), in its request's context. */
  alone: () => Promise<Recorded>;
}

/** What a statement answered for one record: its outcome in a batch, or its answer when it went alone. */
type Settled = { batch: BatchOutcome } | { alone: Recorded };

/**
 * Records per statement, and statements in flight per writer (createdBy and key). One in flight:
 * measured against two under the bench's 32 connections, the records wait for one statement instead
 * of sharing two, so each statement carries twice as many, and both PostgreSQL's and Node's CPU per
 * record fell by a fifth or more (docs/benchmarks.md). A writer's statements never run beside each
 * other, and writers (lanes) do.
 */
const MAX_BATCH = 64;
const MAX_IN_FLIGHT = 1;

/**
 * Whether a statement's error left nothing written: the server answered it (an SQLSTATE, the
 * statement rolled back), not a connection lost with the statement or its commit in flight.
 */
export function statementRolledBack(error: unknown): boolean {
  if (!(error instanceof QueryFailedError) || connectionProblem(error)) return false;
  const code = (error.driverError as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * POST /api/usage/record without an eventId, outside a request's transaction (docs/money.md
 * "Records that arrive together"): the records of one writer (the caller who records and the key it
 * goes through) that arrive together are debited by ONE batch take statement, each in its order of
 * arrival, exactly as one record alone (the same decision, the same answers and errors); the
 * statement's fixed cost is shared. Each record is all or nothing on its own: a refused one writes
 * nothing and the others go on; a statement the server refused as a whole is sent again one record
 * at a time (src/database/coalescer.ts).
 */
@Injectable()
export class CoalescedRecords {
  private readonly coalescer = new Coalescer<Pending, Settled>((_key, items) => this.send(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
    retryAlone: statementRolledBack,
  });

  constructor(
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(CreditsService) private readonly credits: CreditsService,
    private readonly records: UsageRecordsRepository,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  /**
   * The record debited and inserted; a refusal throws the single take's error. `alone` sends it by the single take's statement, when nothing arrived with it; it must not depend on
   * the request's async context (it runs in whichever request's turn sends it).
   */
  async record(
    billed: BilledParty,
    input: CreateUsageRecordInput & { id: string },
    alone: () => Promise<Recorded>,
  ): Promise<Recorded> {
    const settled = await this.coalescer.submit(`${billed.createdBy}\u0000${billed.apiKeyId ?? ''}`, {
      billed,
      input,
      alone,
    });
    if ('alone' in settled) return settled.alone;
    const outcome = settled.batch;
    if (outcome.status === 'created') {
      // The statement's `answer` columns: the record's stored timestamp, metadata and providerUsage.
      const row = outcome.row as unknown as InsertedRecordSqlRow;
      return { record: toRecordDto(insertedRecord(input, row)), replayed: false };
    }
    if (outcome.status === 'duplicate') throw new Error('a record without an eventId came back as a duplicate');
    throw await this.credits.singleRefusal(outcome.error, input.credits, billed);
  }

  /**
   * One batch take statement for records of one writer; a record alone
   * (nothing arrived with it) goes by the single take's statement, which costs one record less.
   */
  private async send(items: Pending[]): Promise<(Settled | Error)[]> {
    this.metrics.recordsPerStatement(items.length);
    if (items.length === 1) {
      try {
        return [{ alone: await items[0].alone() }];
      } catch (error) {
        // A refusal is that record's answer; a failed statement is the coalescer's to handle.
        if (error instanceof DomainError) return [error];
        throw error;
      }
    }
    const { createdBy, apiKeyId } = items[0].billed;
    const outcomes = await this.credits.debitAndInsertMany(
      this.tx.statementManager,
      { createdBy, apiKeyId },
      this.records.batchParts(
        createdBy,
        items.map((p) => ({ eventId: null, input: p.input })),
        { label: 'usage_records', answer: true },
      ),
    );
    return outcomes.map((batch) => ({ batch }));
  }
}
