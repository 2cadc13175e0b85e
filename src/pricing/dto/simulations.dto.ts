import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, ValidateNested } from 'class-validator';

import { IsInstant } from '../../common/validation/dates.js';
import { IsOrgId, IsUserId } from '../../common/validation/ids.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { MAX_IMPORT_RULES, PricingRuleFieldsDto } from './pricing.dto.js';

/** How a simulation's answer is grouped (the usage module's simulation also groups by record). */
export const SIMULATION_GROUPS = ['model', 'account', 'day'] as const;

export class SimulationDto {
  @ApiProperty({ example: '2026-11-01T00:00:00.000Z', description: 'Start of the range (inclusive)' })
  @IsInstant()
  from: string;

  @ApiProperty({ example: '2026-12-01T00:00:00.000Z', description: 'End of the range (exclusive)' })
  @IsInstant()
  to: string;

  @ApiProperty({
    type: [PricingRuleFieldsDto],
    minItems: 1,
    maxItems: MAX_IMPORT_RULES,
    description: 'The rules to price with, as in a price sheet (no dates); models without one keep their price',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_IMPORT_RULES)
  @ValidateNested({ each: true })
  @Type(() => PricingRuleFieldsDto)
  rules: PricingRuleFieldsDto[];

  @ApiPropertyOptional({ example: 'user-123', description: 'Only this user’s own account’s records' })
  @IsOptional()
  @IsUserId()
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', description: 'Only this organisation’s records' })
  @IsOptional()
  @IsOrgId()
  orgId?: string;

  @ApiProperty({ enum: SIMULATION_GROUPS, example: 'model' })
  @IsIn(SIMULATION_GROUPS)
  groupBy: (typeof SIMULATION_GROUPS)[number];
}

export class SimulationRowDto {
  @ApiProperty({ example: 'anthropic.claude-3-haiku-20240307-v1:0', description: 'The model, account or UTC day' })
  key: string;

  @ApiInteger({ example: 1200 })
  records: number;

  @ApiInteger({ example: 3600 })
  actualCredits: number;

  @ApiInteger({ example: 2880 })
  simulatedCredits: number;
}

export class SimulationResponseDto {
  @ApiInteger({ example: 1200 })
  records: number;

  @ApiInteger({ example: 3600, description: 'Σ credits the records were billed' })
  actualCredits: number;

  @ApiInteger({ example: 2880, description: 'Σ credits under the given rules' })
  simulatedCredits: number;

  @ApiInteger({ example: -720, description: 'simulatedCredits − actualCredits' })
  difference: number;

  @ApiProperty({ type: [SimulationRowDto] })
  rows: SimulationRowDto[];
}
