import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';

import { PaidByOrg } from '../../auth/billed-party.dto.js';
import { MAX_TOKENS } from '../../common/validation/amounts.js';
import { FlatBody } from '../../common/validation/body-validation.pipe.js';
import { type BudgetScopes, BudgetScopesField } from '../../common/validation/budget-scopes.js';
import { IsModelId } from '../../common/validation/ids.js';
import { ApiIntegerOptional } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { MeteredDimensionsDto } from '../../pricing/dto/dimensions.dto.js';
import { ProviderUsageField, TerminationField } from '../../pricing/dto/provider-usage.dto.js';
import { KIND_DOCS, TokenCount } from '../../pricing/dto/token-kinds.dto.js';
import type { ProviderUsage, Termination } from '../../pricing/provider-usage.js';
import { hasKinds, type TokenKindFields } from '../../pricing/token-counts.js';

const SESSION_ID_PATTERN = /^\S+$/;
/** Neither the counts per kind nor units (which may stand without tokens): the single count is required. */
const noSplit = (o: TokenKindFields & { units?: unknown }) => !hasKinds(o) && o.units === undefined;
/** Neither the counts per kind, nor units, nor a providerUsage: the single count is required. */
const noSplitNorProvider = (o: TokenKindFields & { providerUsage?: unknown; units?: unknown }) =>
  noSplit(o) && o.providerUsage === undefined;

const SPLIT_NOTE =
  'Instead of the single count a caller may give the counts per kind (`inputTokens`, `outputTokens`, ' +
  '`cacheReadTokens`, `cacheWriteTokens`, `reasoningTokens`; a missing one counts 0); then ' +
  '`credits = ceil(Σ tokens of each kind × its price / 1000)`.';

/** The counts per kind, accepted wherever a token count is (docs/money.md, "Units and arithmetic"). */
export class TokenSplitDto extends MeteredDimensionsDto {
  @ApiIntegerOptional({
    example: 1200,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: 'Prompt tokens (instead of the single count)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  inputTokens?: number;

  @ApiIntegerOptional({
    example: 800,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: 'Completion tokens (instead of the single count)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  outputTokens?: number;

  @TokenCount(20000, `${KIND_DOCS.cacheRead} (instead of the single count)`)
  cacheReadTokens?: number;

  @TokenCount(0, `${KIND_DOCS.cacheWrite} (instead of the single count)`)
  cacheWriteTokens?: number;

  @TokenCount(0, `${KIND_DOCS.reasoning} (instead of the single count)`)
  reasoningTokens?: number;
}

@FlatBody()
export class InitializeSessionDto extends TokenSplitDto {
  @PaidByOrg()
  orgId?: string;

  @BudgetScopesField()
  scopes?: BudgetScopes;

  @ApiPropertyOptional({
    example: 'chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21',
    maxLength: 100,
    description:
      'Unique per user (two users may use the same id); generated (UUID) when absent. An id the same user already ' +
      'used → 409.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @Matches(SESSION_ID_PATTERN, { message: 'sessionId must not contain whitespace' })
  sessionId?: string;

  @ApiProperty({ example: 'anthropic.claude-3-sonnet-20240229-v1:0', maxLength: 100 })
  @IsModelId()
  modelId: string;

  @ApiIntegerOptional({
    example: 2000,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: `Expected tokens of the whole exchange, priced at the model's current rule. Required unless the split is given. ${SPLIT_NOTE}`,
  })
  @ValidateIf(noSplit)
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  estimatedTokens?: number;
}

@FlatBody()
export class FinalizeSessionDto extends TokenSplitDto {
  @ApiProperty({ example: 'chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  sessionId: string;

  @ApiIntegerOptional({
    example: 1850,
    minimum: 0,
    maximum: MAX_TOKENS,
    description: `Tokens really used, priced at the rule in effect when the session started. Required unless the split or providerUsage is given. ${SPLIT_NOTE}`,
  })
  @ValidateIf(noSplitNorProvider)
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  actualTokens?: number;

  @ApiPropertyOptional({
    example: true,
    default: true,
    description: 'false: the stream failed; still charged for its tokens, recorded as `chat-streaming-failed`',
  })
  @IsOptional()
  @IsBoolean()
  success?: boolean;

  @ProviderUsageField('actualTokens or the counts per kind')
  providerUsage?: ProviderUsage;

  @TerminationField()
  termination?: Termination;
}

@FlatBody()
export class AbortSessionDto extends TokenSplitDto {
  @ApiProperty({ example: 'chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  sessionId: string;

  @ApiIntegerOptional({
    example: 300,
    minimum: 0,
    maximum: MAX_TOKENS,
    default: 0,
    description: `Tokens generated before the stream was cut off (charged). ${SPLIT_NOTE}`,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  tokensGenerated?: number;

  @ProviderUsageField('tokensGenerated or the counts per kind (the usage the provider reported before the cut-off)')
  providerUsage?: ProviderUsage;

  @TerminationField()
  termination?: Termination;
}
