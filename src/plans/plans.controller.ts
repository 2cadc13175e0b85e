import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import {
  CreatePlanDto,
  ListPlansQueryDto,
  PlanListResponseDto,
  PlanResponseDto,
  UpdatePlanDto,
} from './dto/plans.dto.js';
import { PlansService } from './plans.service.js';

@ApiTags('plans')
@Controller('api/plans')
export class PlansController {
  constructor(private readonly plans: PlansService) {}

  @Post()
  @Auth('admin')
  @ApiOperation({ summary: 'Create a plan: credits granted to each subscriber every period (admin)' })
  @ApiCreatedResponse({ type: PlanResponseDto })
  @ApiConflictResponse({ description: 'A plan with this id exists', type: ErrorResponseDto })
  create(@CurrentUser() user: AuthUser, @Body() body: CreatePlanDto): Promise<PlanResponseDto> {
    return this.plans.create(user.userId, body);
  }

  @Get()
  @Auth('supervisor')
  @ApiOperation({ summary: 'Plans with their subscriber counts (supervisor)' })
  @ApiOkResponse({ type: PlanListResponseDto })
  list(@Query() query: ListPlansQueryDto): Promise<PlanListResponseDto> {
    return this.plans.list(query);
  }

  @Patch(':id')
  @Auth('admin')
  @ApiOperation({
    summary: 'Change a plan (admin)',
    description: 'New values apply from each subscriber’s next period; isActive false stops further grants.',
  })
  @ApiParam({ name: 'id', example: 'pro' })
  @ApiOkResponse({ type: PlanResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown plan', type: ErrorResponseDto })
  update(@Param('id') id: string, @Body() body: UpdatePlanDto): Promise<PlanResponseDto> {
    return this.plans.update(id, body);
  }
}
