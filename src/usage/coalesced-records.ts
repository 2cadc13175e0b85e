import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { Payer } from '../accounts/payer.js';
import { DomainError } from '../common/errors/domain-error.js';
import { Coalescer } from '../database/coalescer.js';
import { statementRolledBack } from '../database/statement-errors.js';
import { Transactions } from '../database/transactions.js';
import type { BatchOutcome } from '../engine/credits.service.js';
import { CreditsService } from '../engine/credits.service.js';
import { KeyedAnswers, keyInFlight, keyReused, type StatementKey } from '../idempotency/statement-key.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { UsageRecordResponseDto } from './dto/record-usage.dto.js';
import {
  type CreateUsageRecordInput,
  insertedRecord,
  type InsertedRecordSqlRow,
  UsageRecordsRepository,
} from './usage-records.repository.js';

/**
 * What the record route answers: the record, and whether it is sent again (an eventId used before:
 * 200; an Idempotency-Key's stored answer: its `status`).
 */
export type Recorded = { record: UsageRecordResponseDto; replayed: boolean; status?: number };

interface Pending {
  payer: Payer;
  eventId: string | null;
  input: CreateUsageRecordInput & { id: string };
  idem?: StatementKey;
}

/**
 * The record statement's label: a record alone, records that arrive together and a record with an
 * eventId send the same statement (the batch take's, a batch of one or more), so it is prepared once
 * per connection.
 */
export const RECORD_STATEMENT = 'usage_record';

/**
 * Records per statement, and statements in flight per lane. One in flight: measured against two
 * under the bench's 32 connections, the records wait for one statement instead of sharing two, so
 * each statement carries twice as many, and both PostgreSQL's and Node's CPU per record fell by a
 * fifth or more (docs/benchmarks.md). A lane's statements never run beside each other, and lanes do.
 */
const MAX_BATCH = 64;
const MAX_IN_FLIGHT = 1;
/**
 * The lane of a record: the key its take counts against (none: users' and members' own tokens). Records
 * of many writers and accounts share a lane and a statement, and the take is one call for all of
 * them. Lanes by account as well (2 or 4 of them per key) carried half or a quarter as many records a
 * statement and cost more CPU a record in both PostgreSQL and Node (docs/benchmarks.md "Records of
 * many writers together").
 */
const laneOf = (payer: Payer): string => payer.apiKeyId ?? '';

/**
 * POST /api/usage/record outside a request's transaction, with an eventId or without (docs/money.md
 * "Records that arrive together"): the records through one key (none: own tokens), whoever writes
 * them, that arrive together are debited by ONE batch take statement, each in its order of
 * arrival, exactly as one record alone (the same decision, the same answers and errors); the
 * statement's fixed cost is shared. An eventId is claimed in its writer's namespace by the same
 * statement, so a retry finds the first record. Each record is all or nothing on its own: a refused
 * one writes nothing and gives its eventId back, and the others go on; a statement the server refused
 * as a whole is sent again one record at a time (src/database/coalescer.ts).
 */
@Injectable()
export class CoalescedRecords {
  private readonly coalescer = new Coalescer<Pending, BatchOutcome>((_key, items) => this.send(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
    retryAlone: statementRolledBack,
  });
  /** Records with an eventId on their way, by writer and id: the statement each went out in. */
  private readonly claiming = new Map<string, Promise<void>>();
  /** The Idempotency-Keys of records on their way (their lock ids): a second request of one is in flight. */
  private readonly keysOnTheirWay = new Set<string>();

  constructor(
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(CreditsService) private readonly credits: CreditsService,
    private readonly records: UsageRecordsRepository,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(KeyedAnswers) private readonly keyed: KeyedAnswers,
  ) {}

  /**
   * The record debited and inserted; a refusal throws the single record's error. It runs in whichever
   * request's turn sends the statement, so nothing it does depends on the request's async context.
   */
  async record(
    payer: Payer,
    eventId: string | null,
    input: CreateUsageRecordInput & { id: string },
    key?: StatementKey,
  ): Promise<Recorded> {
    if (key === undefined) return this.claimed(payer, eventId, { payer, eventId, input });
    // A key's second request while its first is on its way from this instance: in flight, as the
    // statement's lock tells one from another instance (one statement never carries a key twice).
    if (this.keysOnTheirWay.has(key.lock)) throw keyInFlight();
    this.keysOnTheirWay.add(key.lock);
    try {
      return await this.claimed(payer, eventId, { payer, eventId, input, idem: key }, key);
    } finally {
      this.keysOnTheirWay.delete(key.lock);
    }
  }

  private async claimed(payer: Payer, eventId: string | null, pending: Pending, key?: StatementKey): Promise<Recorded> {
    const manager = this.tx.statementManager;
    const { input } = pending;
    if (eventId === null)
      return this.answer(manager, payer, input, await this.coalescer.submit(laneOf(payer), pending), key);
    // A second record of an eventId already on its way waits for the first to commit or be refused:
    // one statement never carries an id twice, and the second then finds the first's record, or the id
    // given back.
    const claim = `${payer.createdBy}\u0000${eventId}`;
    for (let first = this.claiming.get(claim); first; first = this.claiming.get(claim)) await first;
    const sent = this.coalescer.submit(laneOf(payer), pending);
    const settled = sent.then(
      () => undefined,
      () => undefined,
    );
    this.claiming.set(claim, settled);
    // Registered before any later record of the id waits on `settled`, so it runs before they wake.
    void settled.then(() => this.claiming.get(claim) === settled && this.claiming.delete(claim));
    return this.answer(manager, payer, input, await sent, key);
  }

  /**
   * The record route's answer to a record's outcome, in a statement or alone: the created record, the
   * first record of a duplicate (read in `manager`, in a statement of its own, which sees the record
   * the id's first statement committed), or the refusal thrown.
   */
  async answer(
    manager: EntityManager,
    payer: Payer,
    input: CreateUsageRecordInput & { id: string },
    outcome: BatchOutcome,
    key?: StatementKey,
  ): Promise<Recorded> {
    if (outcome.status === 'created') {
      // The statement's `answer` columns: the record's stored timestamp, metadata and providerUsage.
      const row = outcome.row as unknown as InsertedRecordSqlRow;
      return { record: insertedRecord(input, row), replayed: false };
    }
    if (outcome.status === 'duplicate') {
      const row = outcome.usageRecordId && (await this.records.find(manager, outcome.usageRecordId));
      if (!row) throw new DomainError('EVENT_RECORD_GONE', 'This eventId was used for a record that no longer exists');
      return { record: row, replayed: true };
    }
    if (outcome.status === 'keyed') {
      if (outcome.key === 'in_flight') throw keyInFlight();
      if (outcome.key === 'key_reused') throw keyReused();
      // Answered before: its stored answer (committed, as the statement's lock showed).
      const stored = key && (await this.keyed.stored(key));
      if (!stored) throw keyInFlight();
      return { record: stored.body as UsageRecordResponseDto, replayed: true, status: stored.status };
    }
    throw await this.credits.singleRefusal(outcome.error, input.credits, payer);
  }

  /**
   * One batch take statement for the records of one lane, each with its writer: one record alone is
   * a batch of one.
   */
  private async send(items: Pending[]): Promise<BatchOutcome[]> {
    this.metrics.recordsPerStatement(items.length);
    return this.credits.debitAndInsertMany(
      this.tx.statementManager,
      { apiKeyId: items[0].payer.apiKeyId },
      this.records.batchParts(
        null,
        items.map((p) => ({ eventId: p.eventId, owner: p.payer.createdBy, input: p.input, idem: p.idem })),
        { label: RECORD_STATEMENT, answer: true, createdBy: items.map((p) => p.payer.createdBy) },
      ),
    );
  }
}
