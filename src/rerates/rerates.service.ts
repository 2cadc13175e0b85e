import { isDeepStrictEqual } from 'node:util';

import { Inject, Injectable } from '@nestjs/common';

import { AuditService } from '../audit/audit.service.js';
import { type AccountView, accountView } from '../auth/account-views.js';
import type { AuthUser } from '../auth/roles.js';
import { DomainError } from '../common/errors/domain-error.js';
import { decodeIdCursor, type Page, toPage } from '../common/http/pagination.js';
import { isUuid } from '../common/validation/ids.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { HeavyReads } from '../database/heavy-reads.js';
import { Transactions } from '../database/transactions.js';
import type { CreateOutcome } from '../idempotency/replayed-create.interceptor.js';
import type { CreateRerateDto, RerateResponseDto } from '../pricing/dto/rerates.dto.js';
import type { RerateDesk } from '../pricing/rerates/rerate-desk.js';
import { simulationRulesJson } from '../usage/simulations/simulations.js';
import { simulationInput } from '../usage/simulations/simulations.service.js';
import { RerateRunner } from './rerate-runner.js';
import { type RerateRequest, type RerateRow, ReratesRepository } from './rerates.repository.js';

/**
 * Re-rates (docs/pricing.md "Re-rating"): a range of records corrected to what the rules given price
 * them at, as the simulation of the same body shows, one correction a record that differs. Starting
 * one checks the body as a simulation does, records it with the audit entry, and runs it in the
 * background behind the heavy reads' gate (RerateRunner); the same `rerateId` again answers it. A
 * re-rate of every account runs in RERATE_LANES lanes (cut by paying account, fixed at its start); one
 * of a user or an organisation has one account, so one lane.
 */
@Injectable()
export class ReratesService implements RerateDesk {
  constructor(
    private readonly repo: ReratesRepository,
    private readonly runner: RerateRunner,
    private readonly heavy: HeavyReads,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The re-rate started, or the one this rerateId started before (`replayed`; same body, else 422). */
  async start(caller: AuthUser, dto: CreateRerateDto): Promise<CreateOutcome<RerateResponseDto>> {
    const input = simulationInput(dto);
    const request: RerateRequest = {
      from: input.from.toISOString(),
      to: input.to.toISOString(),
      rules: JSON.parse(simulationRulesJson(input.rules)) as unknown[],
      account: input.owner ? accountView(input.owner.kind, input.owner.ownerId) : null,
      reason: dto.reason,
    };
    const existing = await this.repo.findByRerateId(dto.rerateId);
    if (existing) return { value: await this.again(existing, request), replayed: true };

    const free = this.heavy.place();
    try {
      const row = await this.tx.run(async (manager) => {
        const lanes = request.account === null ? this.config.corrections.rerateLanes : 1;
        const inserted = await this.repo.insert(manager, dto.rerateId, request, caller.userId, lanes);
        if (inserted) {
          await this.audit.record(manager, {
            action: 'pricing.rerate',
            targetId: inserted.id,
            before: null,
            after: {
              rerateId: dto.rerateId,
              from: request.from,
              to: request.to,
              rules: request.rules,
              ...whose(request.account),
              reason: request.reason,
            },
          });
        }
        return inserted;
      });
      if (!row) {
        free();
        // Started by a request running alongside this one.
        return { value: await this.again((await this.repo.findByRerateId(dto.rerateId))!, request), replayed: true };
      }
      this.tx.afterCommit(() => void this.runner.launch(row.id, free));
      return { value: toView(row), replayed: false };
    } catch (error) {
      free();
      throw error;
    }
  }

  async get(id: string): Promise<RerateResponseDto> {
    const row = isUuid(id) ? await this.repo.find(id) : null;
    if (!row) throw new DomainError('NOT_FOUND', 'Re-rate not found');
    return toView(row);
  }

  async list(query: { limit?: number; cursor?: string }): Promise<Page<RerateResponseDto>> {
    const limit = query.limit ?? 50;
    const after = decodeIdCursor(query.cursor, 'uuid');
    const rows = await this.repo.list(after?.id ?? null, limit + 1);
    return toPage(rows, limit, toView, (r) => ({ id: r.id }));
  }

  /** A rerateId sent again: its re-rate when the body is the same (a failed one runs again), else 422. */
  private async again(row: RerateRow, request: RerateRequest): Promise<RerateResponseDto> {
    if (!isDeepStrictEqual(row.request, request)) {
      throw new DomainError('RERATE_ID_REUSED', `The rerateId ${row.rerate_id} was used with another body`);
    }
    if (row.status === 'failed') {
      const free = this.heavy.place();
      await this.repo.restart(row.id);
      void this.runner.launch(row.id, free);
      return toView((await this.repo.find(row.id))!);
    }
    return toView(row);
  }
}

/** Whose records, as the answer and the audit entry name them: `userId` and `orgId`, null when not named. */
const whose = (account: AccountView | null) => ({ userId: account?.userId ?? null, orgId: account?.orgId ?? null });

export function toView(row: RerateRow): RerateResponseDto {
  return {
    id: row.id,
    rerateId: row.rerate_id,
    status: row.status,
    records: Number(row.records),
    corrected: Number(row.corrected),
    delta: Number(row.delta),
    from: row.request.from,
    to: row.request.to,
    ...whose(row.request.account),
    reason: row.request.reason,
    createdBy: row.created_by,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
    lastError: row.last_error,
  };
}
