import { createHash } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import type { AuthUser } from '../auth/roles.js';
import { Changes } from '../changes/changes.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeTimeCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { isUuid } from '../common/validation/ids.js';
import type { CreateOutcome } from '../idempotency/replayed-create.interceptor.js';
import type { ListReconciliationsQueryDto, ReconciliationResponseDto } from './dto/reconciliations.dto.js';
import type { Reconciliation } from './entities/reconciliation.entity.js';
import { chargeSpan, parseReport, paymentIntentsOf, reconcile } from './reconciliation-report.js';
import { ReconciliationsRepository } from './reconciliations.repository.js';

export function toReconciliationView(r: Reconciliation): ReconciliationResponseDto {
  return {
    id: r.id,
    payouts: r.payouts,
    rows: r.rowCount,
    matched: r.matched,
    mismatched: r.mismatched,
    unknown: r.unknown,
    missing: r.missing,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
  };
}

/**
 * Reconciles Stripe's itemized payout reconciliation report with the Stripe purchases
 * (docs/reconciliation.md). A report is known by the SHA-256 of its bytes: uploading it again
 * answers the reconciliation made the first time.
 */
@Injectable()
export class ReconciliationsService {
  constructor(
    private readonly repo: ReconciliationsRepository,
    @Inject(Changes) private readonly changes: Changes,
  ) {}

  /** The reconciliation of this report, made now (201) or before (`replayed`, 200). */
  create(caller: AuthUser, report: unknown): Promise<CreateOutcome<ReconciliationResponseDto>> {
    if (typeof report !== 'string' || report.length === 0) {
      throw new DomainError('VALIDATION', 'The body must be the report as text/csv');
    }
    if (report.includes('\0')) throw new DomainError('VALIDATION', 'The report must not contain NUL characters');
    const sha256 = createHash('sha256').update(report, 'utf8').digest();
    return this.changes.tx.run(async (manager) => {
      const known = await this.repo.findByReport(manager, sha256);
      if (known) return { value: toReconciliationView(known), replayed: true };
      const rows = parseReport(report);
      const byIntent = new Map(
        (await this.repo.purchasesPaidWith(manager, paymentIntentsOf(rows))).map((p) => [p.paymentIntentId, p]),
      );
      const span = chargeSpan(rows);
      const paidInSpan = span ? await this.repo.purchasesPaidBetween(manager, span) : [];
      const result = reconcile(rows, byIntent, paidInSpan);
      const row = await this.repo.insert(manager, { sha256, result, createdBy: caller.userId });
      if (!row) {
        // A parallel upload of the same report committed first: answer its reconciliation.
        const other = await this.repo.findByReport(manager, sha256);
        return { value: toReconciliationView(other!), replayed: true };
      }
      const view = toReconciliationView(row);
      await this.changes.audit.record(manager, {
        action: 'finance.reconciliation.create',
        targetId: row.id,
        before: null,
        after: {
          ...view,
          mismatched: view.mismatched.length,
          unknown: view.unknown.length,
          missing: view.missing.length,
        },
      });
      return { value: view, replayed: false };
    });
  }

  async get(id: string): Promise<ReconciliationResponseDto> {
    const row = isUuid(id) ? await this.changes.tx.run((manager) => this.repo.find(manager, id)) : null;
    if (!row) throw new NotFoundError('Reconciliation');
    return toReconciliationView(row);
  }

  async list(query: ListReconciliationsQueryDto): Promise<Page<ReconciliationResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const before = decodeTimeCursor(query.cursor, 'uuid');
    const rows = await this.changes.tx.run((manager) => this.repo.list(manager, { before, limit: limit + 1 }));
    return toPage(rows, limit, toReconciliationView, (r) => ({ t: r.cursorT, id: r.id }));
  }
}
