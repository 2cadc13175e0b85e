import { Injectable } from '@nestjs/common';

import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeIdCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import type { CreatePlanDto, PlanResponseDto, PlanWithCountResponseDto, UpdatePlanDto } from './dto/plans.dto.js';
import type { Plan } from './entities/plan.entity.js';
import { PlansRepository } from './plans.repository.js';

export function toPlanDto(plan: Plan): PlanResponseDto {
  return {
    id: plan.id,
    name: plan.name,
    credits: plan.credits,
    period: plan.period,
    rolloverCap: plan.rolloverCap,
    isActive: plan.isActive,
    createdAt: plan.createdAt.toISOString(),
  };
}

/** The plan catalogue (admin): what each period grants. Granting itself is SubscriptionsService's. */
@Injectable()
export class PlansService {
  constructor(private readonly repo: PlansRepository) {}

  async create(createdBy: string, dto: CreatePlanDto): Promise<PlanResponseDto> {
    const plan = await this.repo.insertPlan({ ...dto, rolloverCap: dto.rolloverCap ?? 0, createdBy });
    if (!plan) throw new DomainError('PLAN_EXISTS', `Plan ${dto.id} already exists`);
    return toPlanDto(plan);
  }

  async list(query: { limit?: number; cursor?: string }): Promise<Page<PlanWithCountResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeIdCursor(query.cursor, 'text');
    const rows = await this.repo.listPlans({ afterId: after?.id ?? null, limit: limit + 1 });
    return toPage(
      rows,
      limit,
      (p) => ({ ...toPlanDto(p), subscriberCount: p.subscriberCount }),
      (p) => ({ id: p.id }),
    );
  }

  /** New values apply from each subscriber's next period (a period's grant is made at its start). */
  async update(id: string, dto: UpdatePlanDto): Promise<PlanResponseDto> {
    const plan = await this.repo.updatePlan(id, dto);
    if (!plan) throw new NotFoundError('Plan');
    return toPlanDto(plan);
  }
}
