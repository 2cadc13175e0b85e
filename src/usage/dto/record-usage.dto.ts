import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  getSchemaPath,
  IntersectionType,
  OmitType,
} from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';

import { PaidByOrg } from '../../auth/billed-party.dto.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { MAX_CREDITS, MAX_TOKENS } from '../../common/validation/amounts.js';
import { FlatBody } from '../../common/validation/body-validation.pipe.js';
import { type BudgetScopes, BudgetScopesField } from '../../common/validation/budget-scopes.js';
import { IsInstant } from '../../common/validation/dates.js';
import { IsModelId, OptionalUserId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { MeteredDimensionsDto, RecordDimensionsAnswerDto } from '../../pricing/dto/dimensions.dto.js';
import { PriceSourceAnswer, PriceSourceDto } from '../../pricing/dto/price-source.dto.js';
import { ProviderUsageDto, ProviderUsageField } from '../../pricing/dto/provider-usage.dto.js';
import { KIND_DOCS, TokenCount } from '../../pricing/dto/token-kinds.dto.js';
import {
  type ProviderUsage,
  type Termination,
  TERMINATIONS,
  USAGE_SOURCES,
  type UsageSource,
} from '../../pricing/provider-usage.js';
import { DateRangeQueryDto } from './usage-queries.dto.js';

export { DateRangeQueryDto, StatsQueryDto, SystemStatsQueryDto } from './usage-queries.dto.js';

/** Where a record with a shortfall stands in the review queue (usage-review.service.ts). */
export const REVIEW_STATUSES = ['open', 'resolved'] as const;

export const METADATA_MAX_BYTES = 16 * 1024;

export function metadataProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'metadata must be a JSON object';
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json, 'utf8') > METADATA_MAX_BYTES)
    return `metadata must be at most ${METADATA_MAX_BYTES} bytes as JSON`;
  if (json.includes('\\u0000')) return 'metadata must not contain NUL characters';
  return null;
}

function IsMetadata(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isMetadata',
      validator: {
        validate: (value) => metadataProblem(value) === null,
        defaultMessage: (args) => metadataProblem(args?.value) ?? 'metadata is not valid',
      },
    },
    options,
  );
}

@FlatBody()
export class RecordUsageDto extends MeteredDimensionsDto {
  @PaidByOrg()
  orgId?: string;

  @BudgetScopesField()
  scopes?: BudgetScopes;

  @ApiProperty({ example: 'chat', maxLength: 50, description: 'The product feature that was used' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  service: string;

  @ApiProperty({ example: 'completion', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  operation: string;

  @ApiIntegerOptional({
    example: 12,
    minimum: 0,
    maximum: MAX_CREDITS,
    description:
      'Credits to charge. Without it, `modelId` and `tokens` (or the counts per kind: `inputTokens`, `outputTokens`, ' +
      '`cacheReadTokens`, `cacheWriteTokens`, `reasoningTokens`) are required and the price in effect is applied.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_CREDITS)
  credits?: number;

  @ApiPropertyOptional({ example: 'anthropic.claude-3-haiku-20240307-v1:0', maxLength: 100 })
  @IsOptional()
  @IsModelId()
  modelId?: string;

  @ApiIntegerOptional({
    example: 1500,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: 'Total tokens, priced at pricePer1kTokens',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  tokens?: number;

  @ApiIntegerOptional({
    example: 1000,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: 'Instead of `tokens`: input tokens (a missing outputTokens counts 0)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  inputTokens?: number;

  @ApiIntegerOptional({
    example: 500,
    minimum: 0,
    maximum: MAX_TOKENS,
    description:
      'Instead of `tokens`: output tokens, priced at outputPricePer1kTokens (a missing inputTokens counts 0)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  outputTokens?: number;

  @TokenCount(20000, `${KIND_DOCS.cacheRead}; needs modelId`)
  cacheReadTokens?: number;

  @TokenCount(0, `${KIND_DOCS.cacheWrite}; needs modelId`)
  cacheWriteTokens?: number;

  @TokenCount(0, `${KIND_DOCS.reasoning}; needs modelId`)
  reasoningTokens?: number;

  @ProviderUsageField('credits, tokens or the counts per kind; needs modelId')
  providerUsage?: ProviderUsage;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { conversationId: 'c-42' },
    description: 'Free-form JSON object, at most 16 KB',
  })
  @IsOptional()
  @IsObject()
  @IsMetadata()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: 'evt-2026-11-21-000042',
    minLength: 1,
    maxLength: 100,
    description:
      'Deduplicates: an eventId the caller used before (here or in a batch, within 35 days) records nothing and ' +
      'answers the original record with 200 and `Idempotent-Replayed: true`',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  eventId?: string;

  @ApiPropertyOptional({
    example: '2026-11-21T11:58:00Z',
    description:
      'When the usage happened (default: now). From now − LATE_USAGE_DAYS (default 90) to now + 5 minutes, else 400 ' +
      'OCCURRED_AT_OUT_OF_RANGE. Priced by the rule and account price in force then; the credits are taken now. ' +
      'Stats, date filters and simulations place the record here; finance books it when written (`timestamp`).',
  })
  @IsOptional()
  @IsInstant()
  occurredAt?: string;
}

@ApiExtraModels(PriceSourceDto)
export class UsageRecordResponseDto extends RecordDimensionsAnswerDto {
  @ApiProperty({ example: '0b6f3c1e-2f6a-4e8e-9a51-6f0f5c7d9a10', format: 'uuid' })
  id: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'The budget scopes the write named (absent: none)',
    example: { project: 'alpha', run: 'r-17' },
  })
  scopes?: BudgetScopes;

  @ApiProperty({ example: 'alice' })
  userId: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z', description: 'When the record was written' })
  timestamp: string;

  @ApiProperty({
    example: '2026-11-21T12:00:00.000Z',
    description: 'When the usage happened: the write’s `occurredAt`, else `timestamp`',
  })
  occurredAt: string;

  @ApiProperty({ example: 'chat' })
  service: string;

  @ApiProperty({ example: 'completion' })
  operation: string;

  @ApiInteger({
    example: 12,
    description: 'What the record charged when it was written (it never changes)',
  })
  credits: number;

  @ApiProperty({ type: String, nullable: true, example: 'anthropic.claude-3-haiku-20240307-v1:0' })
  modelId: string | null;

  @ApiInteger({ nullable: true, example: 1500 })
  tokens: number | null;

  @ApiInteger({ nullable: true, example: null })
  inputTokens: number | null;

  @ApiInteger({ nullable: true, example: null })
  outputTokens: number | null;

  @ApiInteger({
    nullable: true,
    example: null,
    description: 'null: not given (records before token kinds too)',
  })
  cacheReadTokens: number | null;

  @ApiInteger({ nullable: true, example: null })
  cacheWriteTokens: number | null;

  @ApiInteger({ nullable: true, example: null })
  reasoningTokens: number | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, example: { conversationId: 'c-42' } })
  metadata: Record<string, unknown> | null;

  @ApiProperty({
    enum: USAGE_SOURCES,
    example: 'reported',
    description:
      'Where the counts came from: `provider` (the provider’s usage object, providerUsage), `reported` (token counts ' +
      'or credits given), `estimated` (a streaming session expired, or aborted without counts)',
  })
  usageSource: UsageSource;

  @ApiProperty({
    enum: [...TERMINATIONS, null],
    nullable: true,
    example: null,
    description:
      'How a streamed answer ended, as its finalize or abort reported it (null: not reported, not a session)',
  })
  termination: Termination | null;

  // OpenAPI 3.0 has no nullable $ref (see UserOverviewDto.subscription): null is its own branch.
  @ApiProperty({
    anyOf: [{ $ref: getSchemaPath(ProviderUsageDto) }, { type: 'object', nullable: true, enum: [null] }],
    example: null,
    description: 'The providerUsage as sent (null when the counts were not given that way)',
  })
  providerUsage: ProviderUsage | null;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    example: '5d7a2b1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
    description:
      'What priced the record: a pricing rule, or the price catalogue’s stored price (then priceSource names it); ' +
      'null when credits were given or the default price applied',
  })
  pricingRuleId: string | null;

  @PriceSourceAnswer()
  priceSource: PriceSourceDto | null;

  @ApiProperty({ enum: ['billed', 'needs_review'], example: 'billed' })
  billingStatus: 'billed' | 'needs_review';

  @ApiProperty({
    enum: [...REVIEW_STATUSES, null],
    nullable: true,
    example: null,
    description:
      'The review of a shortfall the balance could not cover (see the review queue): null when the record has ' +
      'none, `open` while it waits for an admin, `resolved` once written off or collected',
  })
  reviewStatus: (typeof REVIEW_STATUSES)[number] | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    example: null,
    description:
      'The API key that wrote the record (a service key, or the user’s own key); null when a JWT wrote it, ' +
      'for a session that expired without a key, and on records from before this was kept',
  })
  apiKeyId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      'Who wrote the record when that principal is not the billed user: the JWT’s user or the API key’s ' +
      'owner (e.g. the admin who created the service key); null when the billed user wrote it',
  })
  actorId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      'The organisation that paid for the usage (`userId` is then the member who used it); null when the ' +
      'user’s own account paid',
  })
  orgId: string | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    example: null,
    description:
      'The account price that priced the record with its pricing rule (docs/pricing.md "Account prices"); null ' +
      'when none was in force for the account and model',
  })
  accountPriceId: string | null;
}

export class ListRecordsQueryDto extends IntersectionType(PageQueryDto, DateRangeQueryDto) {
  @OptionalUserId('Default: the caller. Another user needs supervisor or admin.')
  userId?: string;

  @ApiPropertyOptional({ example: 'chat', maxLength: 50 })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  service?: string;

  @ApiPropertyOptional({
    example: 'anthropic.claude-3-haiku-20240307-v1:0',
    maxLength: 100,
    description: 'Only the records of this model',
  })
  @IsOptional()
  @IsModelId()
  modelId?: string;

  @ApiPropertyOptional({
    enum: ['json', 'csv'],
    default: 'json',
    example: 'json',
    deprecated: true,
    description:
      'Deprecated: `csv` answers text/csv here for existing callers; use GET /api/usage/records/export (exportUsageRecordsCsv)',
  })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

/** The CSV export's filters: the list's, without paging size or format (every matching record). */
export class ExportRecordsQueryDto extends OmitType(ListRecordsQueryDto, ['limit', 'format'] as const) {}

export class UserIdParamDto {
  @ApiProperty({ example: 'alice', maxLength: 50 })
  @IsString()
  @MaxLength(50)
  userId: string;
}
