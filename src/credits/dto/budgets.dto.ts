import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmptyObject, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { MAX_CREDITS } from '../../common/validation/amounts.js';
import {
  BUDGET_PERIODS,
  type BudgetPeriod,
  MAX_SCOPE_ID,
  SCOPE_KINDS,
  type ScopeKind,
} from '../../common/validation/budget-scopes.js';
import { IsInstant } from '../../common/validation/dates.js';
import { NotTogetherWith } from '../../common/validation/exclusive.js';
import { OptionalOrgId, OptionalUserId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional, IsOptionalOrNull } from '../../common/validation/optional.js';

export const BUDGET_ID_PATTERN = /^[a-z0-9_.:-]{1,100}$/;
/** A budget's limit: credits, a PostgreSQL integer as every credit amount (docs/money.md). */
export const MAX_BUDGET_CREDITS = MAX_CREDITS;

const BUDGET_ID_MESSAGE = 'must be 1–100 of a-z 0-9 _ . : -';

export class BudgetScopeDto {
  @ApiProperty({ enum: SCOPE_KINDS, example: 'project' })
  @IsIn(SCOPE_KINDS)
  kind: ScopeKind;

  @ApiProperty({ example: 'alpha', minLength: 1, maxLength: MAX_SCOPE_ID })
  @IsString()
  @Length(1, MAX_SCOPE_ID)
  id: string;
}

export class CreateBudgetDto {
  @ApiProperty({ example: 'alpha-monthly', maxLength: 100, pattern: BUDGET_ID_PATTERN.source })
  @IsString()
  @Matches(BUDGET_ID_PATTERN, { message: `budgetId ${BUDGET_ID_MESSAGE}` })
  budgetId: string;

  @OptionalUserId('The user whose account the budget caps (not with orgId)')
  @NotTogetherWith('orgId')
  userId?: string;

  @OptionalOrgId('The organisation whose account it caps')
  orgId?: string;

  @ApiProperty({ type: BudgetScopeDto })
  @ValidateNested()
  @IsNotEmptyObject()
  @Type(() => BudgetScopeDto)
  scope: BudgetScopeDto;

  @ApiPropertyOptional({
    example: 'acme-all',
    maxLength: 100,
    description: 'A budget of the same account this one counts under (a chain holds at most 5 budgets)',
  })
  @IsOptional()
  @IsString()
  @Matches(BUDGET_ID_PATTERN, { message: `parentBudgetId ${BUDGET_ID_MESSAGE}` })
  parentBudgetId?: string;

  @ApiInteger({ example: 5000, minimum: 0, maximum: MAX_BUDGET_CREDITS })
  @IsInt()
  @Min(0)
  @Max(MAX_BUDGET_CREDITS)
  limitCredits: number;

  @ApiPropertyOptional({ enum: BUDGET_PERIODS, default: 'lifetime', description: 'UTC periods; lifetime never resets' })
  @IsOptional()
  @IsIn(BUDGET_PERIODS)
  period?: BudgetPeriod;

  @ApiPropertyOptional({ example: '2026-12-31T00:00:00Z', description: 'After it the budget refuses nothing' })
  @IsOptional()
  @IsInstant()
  expiresAt?: string;
}

export class UpdateBudgetDto {
  @ApiIntegerOptional({ example: 8000, minimum: 0, maximum: MAX_BUDGET_CREDITS })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_BUDGET_CREDITS)
  limitCredits?: number;

  @ApiPropertyOptional({ example: '2027-01-31T00:00:00Z', nullable: true, description: 'null: never expires' })
  @IsOptionalOrNull()
  @IsInstant()
  expiresAt?: string | null;
}

/** The account a route naming one budget means: staff name it; a user or key means its own. */
export class BudgetAccountQueryDto {
  @OptionalUserId('The user whose budget it is (staff; not with orgId). Default: the caller’s own account')
  @NotTogetherWith('orgId')
  userId?: string;

  @OptionalOrgId('The organisation whose budget it is')
  orgId?: string;
}

export class BudgetIdParamDto {
  @ApiProperty({ example: 'alpha-monthly' })
  @IsString()
  @Matches(BUDGET_ID_PATTERN, { message: `budgetId ${BUDGET_ID_MESSAGE}` })
  budgetId: string;
}

class BudgetFilterDto {
  @OptionalUserId('A user’s account (default: the caller’s own; not with orgId)')
  @NotTogetherWith('orgId')
  userId?: string;

  @OptionalOrgId('An organisation’s account')
  orgId?: string;

  @ApiPropertyOptional({ enum: SCOPE_KINDS, description: 'Only the budgets of this scope kind' })
  @IsOptional()
  @IsIn(SCOPE_KINDS)
  kind?: ScopeKind;
}

export class ListBudgetsQueryDto extends IntersectionType(PageQueryDto, BudgetFilterDto) {}

export class BudgetResponseDto {
  @ApiProperty({ example: 'alpha-monthly' })
  budgetId: string;

  @ApiPropertyOptional({ example: 'alice', description: 'A user’s account (absent for an organisation’s)' })
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'An organisation’s account (absent for a user’s)' })
  orgId?: string;

  @ApiProperty({ type: BudgetScopeDto })
  scope: BudgetScopeDto;

  @ApiProperty({ example: null, nullable: true, type: String })
  parentBudgetId: string | null;

  @ApiInteger({ example: 5000 })
  limitCredits: number;

  @ApiProperty({ enum: BUDGET_PERIODS, example: 'month' })
  period: BudgetPeriod;

  @ApiProperty({ example: null, nullable: true, type: String })
  expiresAt: string | null;

  @ApiProperty({ example: false, description: 'Past expiresAt: it refuses nothing' })
  expired: boolean;

  @ApiInteger({ example: 1200, description: 'Credits charged under it in the period' })
  used: number;

  @ApiInteger({ example: 300, description: 'Credits held under it by open sessions' })
  held: number;

  @ApiInteger({
    example: 3500,
    description: 'What a write may still take under it: the least of its own and its ancestors’ room (≥ 0)',
  })
  remaining: number;

  @ApiProperty({ example: '2026-11-01T00:00:00.000Z', nullable: true, type: String, description: 'null: lifetime' })
  periodStart: string | null;

  @ApiProperty({ example: '2026-12-01T00:00:00.000Z', nullable: true, type: String, description: 'null: lifetime' })
  resetsAt: string | null;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  updatedAt: string;
}

export class BudgetListResponseDto extends PageResponseDto(BudgetResponseDto) {}
