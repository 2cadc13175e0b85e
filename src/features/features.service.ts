import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AuditService } from '../audit/audit.service.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeIdCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { Transactions } from '../database/transactions.js';
import type { PlanGrants } from '../plans/plan-grants.js';
import type { FeatureGrantCheck } from '../plans/plans.service.js';
import type { CreateFeatureDto, FeatureResponseDto } from './dto/features.dto.js';
import type { Feature } from './entities/feature.entity.js';
import { FeaturesRepository } from './features.repository.js';
import { grantProblem } from './grants.js';

export function toFeatureDto(f: Feature): FeatureResponseDto {
  return {
    featureKey: f.featureKey,
    name: f.name,
    type: f.type,
    createdAt: new Date(f.createdAt).toISOString(),
    updatedAt: new Date(f.updatedAt).toISOString(),
  };
}

/** The feature catalogue (docs/features.md): create, rename, list; and the check of a plan's grants. */
@Injectable()
export class FeaturesService implements PlanGrants {
  constructor(
    private readonly repo: FeaturesRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  /**
   * A plan's `features` are grants of this catalogue: the plan routes (src/plans/plans.controller.ts,
   * handed this service as their `PLAN_GRANTS` by the composition root) hand this check to the plans
   * module's writes, which run it in their transaction.
   */
  readonly grantCheck: FeatureGrantCheck = (m, grants) => this.assertGrants(m, grants);

  create(dto: CreateFeatureDto): Promise<FeatureResponseDto> {
    return this.tx.run(async (m) => {
      const feature = await this.repo.insert(m, dto);
      if (!feature) throw new DomainError('FEATURE_EXISTS', `Feature ${dto.featureKey} already exists`);
      const after = toFeatureDto(feature);
      await this.audit.record(m, { action: 'feature.create', targetId: feature.featureKey, before: null, after });
      return after;
    });
  }

  rename(featureKey: string, name: string): Promise<FeatureResponseDto> {
    return this.tx.run(async (m) => {
      const old = await this.repo.lock(m, featureKey);
      if (!old) throw new NotFoundError('Feature');
      const before = toFeatureDto(old);
      const after = toFeatureDto(await this.repo.rename(m, featureKey, name));
      await this.audit.record(m, { action: 'feature.update', targetId: featureKey, before, after });
      return after;
    });
  }

  async list(query: { limit?: number; cursor?: string }): Promise<Page<FeatureResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeIdCursor(query.cursor, 'text');
    const rows = await this.repo.list(this.tx.statementManager, after?.id ?? null, limit + 1);
    return toPage(rows, limit, toFeatureDto, (f) => ({ id: f.featureKey }));
  }

  /** Each grant names a feature of the catalogue and has its type's shape, else 400 GRANT_INVALID. */
  async assertGrants(m: EntityManager, grants: Record<string, unknown>): Promise<void> {
    const types = await this.repo.types(m, Object.keys(grants));
    for (const [key, grant] of Object.entries(grants)) {
      const type = types.get(key);
      if (!type) throw new DomainError('GRANT_INVALID', `features.${key}: no such feature`);
      const problem = grantProblem(type, grant);
      if (problem) throw new DomainError('GRANT_INVALID', `features.${key}: ${problem}`);
    }
  }
}
