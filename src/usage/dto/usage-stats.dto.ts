import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { CountsOf } from '../../common/validation/figures.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { UsageRecordResponseDto } from './record-usage.dto.js';

const creditsMap = (example: Record<string, number>, description: string) =>
  ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example, description });

/** Token counts of the window per kind; a record without a split counts its `tokens` as input. */
export class TokensByKindDto extends CountsOf({
  input: 1000,
  output: 500,
  cacheRead: 20000,
  cacheWrite: 0,
  reasoning: 0,
}) {}

/** The breakdowns a user's stats and the system's both answer, each described once. */
const TokensByKind = () =>
  ApiProperty({
    type: TokensByKindDto,
    description:
      'Tokens of each kind in the window (a record given a single `tokens` count counts it as input); ' +
      'records before token kinds count 0 cache and reasoning tokens',
  });
const ByServiceTier = () =>
  creditsMap(
    { default: 900, flex: 100 },
    'Credits per service tier the records were priced at (`default`: the base prices, records without a tier)',
  );
const UnitsByName = () =>
  creditsMap({ web_search_call: 42 }, 'Counts of each unit the records priced (summed, not credits)');

export class UserUsageStatsResponseDto {
  @ApiProperty({ example: 'alice' })
  userId: string;

  @ApiInteger({ example: 42 })
  totalRecords: number;

  @ApiInteger({ example: 1234 })
  totalCredits: number;

  @creditsMap({ chat: 1000, embeddings: 234 }, 'Credits per service')
  byService: Record<string, number>;

  @creditsMap({ '2026-11-20': 600, '2026-11-21': 634 }, 'Credits per UTC day (YYYY-MM-DD)')
  byDay: Record<string, number>;

  @creditsMap(
    { 'anthropic.claude-3-haiku-20240307-v1:0': 900, completion: 100 },
    'Credits per modelId; records of services chat/chat-streaming without a model count under their operation',
  )
  byModel: Record<string, number>;

  @TokensByKind()
  tokensByKind: TokensByKindDto;

  @ByServiceTier()
  byServiceTier: Record<string, number>;

  @UnitsByName()
  unitsByName: Record<string, number>;

  @ApiProperty({ type: [UsageRecordResponseDto], description: 'The 10 newest records of the window, newest first' })
  recentActivity: UsageRecordResponseDto[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { alpha: 900, beta: 100 },
    description: 'With `groupBy`: net credits per id of that scope kind (records without one are not counted)',
  })
  byScope?: Record<string, number>;
}

export class ModelMarginDto {
  @ApiInteger({ example: 900 })
  credits: number;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '0.45',
    description:
      'Σ provider cost, an exact decimal string without trailing zeros; null when no record of the model has one',
  })
  providerCost: string | null;
}

export class SystemUsageStatsResponseDto {
  @ApiInteger({ example: 100000 })
  totalRecords: number;

  @ApiInteger({ example: 2500000 })
  totalCredits: number;

  @ApiInteger({ example: 812, description: 'Users with at least one record in the window' })
  userCount: number;

  @creditsMap({ alice: 5000, bob: 4200 }, 'The top `topUsers` users by credits, highest first')
  byUser: Record<string, number>;

  @creditsMap({ chat: 2000000, embeddings: 500000 }, 'Credits per service')
  byService: Record<string, number>;

  @creditsMap({ '2026-11-21': 80000 }, 'Credits per UTC day (YYYY-MM-DD)')
  byDay: Record<string, number>;

  @creditsMap(
    { 'anthropic.claude-3-haiku-20240307-v1:0': 1500000 },
    'Credits per model (chat/chat-streaming records without one: their operation)',
  )
  byModel: Record<string, number>;

  @TokensByKind()
  tokensByKind: TokensByKindDto;

  @ByServiceTier()
  byServiceTier: Record<string, number>;

  @UnitsByName()
  unitsByName: Record<string, number>;

  @ApiProperty({
    example: '1234.56',
    description: 'Σ provider cost of the window: an exact decimal string without trailing zeros ("0" when none)',
  })
  providerCost: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/ModelMarginDto' },
    example: { 'anthropic.claude-3-haiku-20240307-v1:0': { credits: 1500000, providerCost: '750' } },
    description:
      'Credits charged and provider cost per model (each record’s tokens at its rule’s provider cost per kind)',
  })
  marginByModel: Record<string, ModelMarginDto>;
}
