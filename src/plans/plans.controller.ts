import { Body, Controller, Get, Inject, Param, Patch, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { StaffRead } from '../auth/staff-read.decorator.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  ActivePlanListResponseDto,
  CreatePlanDto,
  ListPlansQueryDto,
  PlanListResponseDto,
  PlanResponseDto,
  UpdatePlanDto,
} from './dto/plans.dto.js';
import { PLAN_GRANTS, type PlanGrants } from './plan-grants.js';
import { PlansService } from './plans.service.js';

/**
 * The plan catalogue's routes (tagged `plans`): a plan's `features` are grants of the features
 * module's catalogue, so each write hands `PlansService` the check the composition root handed in
 * (`PLAN_GRANTS`, the features module's `grantCheck`), which it runs in its transaction.
 */
@ApiTags('plans')
@Controller('api/plans')
export class PlansController {
  constructor(
    @Inject(PlansService) private readonly plans: PlansService,
    @Inject(PLAN_GRANTS) private readonly grants: PlanGrants,
  ) {}

  @IdempotentPost()
  @Auth('admin')
  @ApiOperation({
    operationId: 'createPlan',
    summary: 'Create a plan: credits granted to each subscriber every period (admin)',
  })
  @ApiBody({
    type: CreatePlanDto,
    examples: {
      pro: {
        summary: 'Pro: 5,000 credits a month, up to 1,000 unused roll over',
        value: { id: 'pro', name: 'Pro', credits: 5000, period: 'month', rolloverCap: 1000 },
      },
      free: { summary: 'Free: 100 credits a week', value: { id: 'free', name: 'Free', credits: 100, period: 'week' } },
    },
  })
  @ApiCreatedResponse({ type: PlanResponseDto })
  @ApiConflictResponse({
    description: 'A plan with this id exists',
    type: ErrorResponseDto,
    examples: { exists: domainErrorExample('PLAN_EXISTS', 'Plan pro already exists', 'The id is taken') },
  })
  create(@CurrentUser() user: AuthUser, @Body() body: CreatePlanDto): Promise<PlanResponseDto> {
    return this.plans.create(user.userId, body, this.grants.grantCheck);
  }

  @Get()
  @StaffRead('supervisor', PlanListResponseDto, 'listPlans', 'Plans with their subscriber counts (supervisor)')
  list(@Query() query: ListPlansQueryDto): Promise<PlanListResponseDto> {
    return this.plans.list(query);
  }

  @Get('active')
  @Auth('user', { scope: 'any', portal: 'any' })
  @ApiOperation({
    operationId: 'listActivePlans',
    summary: 'The plans on offer, by id (any authenticated caller, a portal session too)',
    description:
      'The active plans, which a subscription may move to: what the portal lists for its preview of a ' +
      'change of plan. No subscriber counts (those are `GET /api/plans`, supervisor).',
  })
  @ApiOkResponse({ type: ActivePlanListResponseDto })
  listActive(@Query() query: ListPlansQueryDto): Promise<ActivePlanListResponseDto> {
    return this.plans.listActive(query);
  }

  @Patch(':id')
  @Auth('admin')
  @ApiOperation({
    operationId: 'updatePlan',
    summary: 'Change a plan (admin)',
    description: 'New values apply from each subscriber’s next period; isActive false stops further grants.',
  })
  @ApiParam({ name: 'id', example: 'pro' })
  @ApiBody({
    type: UpdatePlanDto,
    examples: {
      more: { summary: 'More credits from the next period', value: { credits: 6000, rolloverCap: 1500 } },
      retire: { summary: 'Stop granting (subscribers keep what they have)', value: { isActive: false } },
    },
  })
  @ApiOkResponse({ type: PlanResponseDto })
  @ApiNotFoundOf('Plan', 'Unknown plan')
  update(@Param('id') id: string, @Body() body: UpdatePlanDto): Promise<PlanResponseDto> {
    return this.plans.update(id, body, this.grants.grantCheck);
  }
}
