import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

import { type Scope, SCOPES } from '../../auth/roles.js';
import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { IsInstant } from '../../common/validation/dates.js';
import { IsOrgId, OptionalUserId } from '../../common/validation/ids.js';
import { ApiInteger, ApiIntegerOptional } from '../../common/validation/integers.js';
import { ModelPatterns } from '../../common/validation/model-patterns.js';
import { IsOptional, IsOptionalOrNull } from '../../common/validation/optional.js';
import { KEY_LIMIT_PERIODS, type KeyLimitPeriod } from '../entities/api-key.entity.js';

const LIMIT_DESCRIPTION =
  'Credits the key may spend per period (records, holds at their held amount, settlement overruns); ' +
  'a request that would exceed it → 402 KEY_LIMIT_EXCEEDED';
const PERIOD_DESCRIPTION =
  'The UTC calendar period the limit counts over: day (from 00:00), week (from Monday), month (from the 1st) ' +
  'or total (never resets)';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'billing-dashboard', maxLength: 100, description: 'A label to tell keys apart' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiPropertyOptional({
    enum: SCOPES,
    isArray: true,
    example: ['credits:read', 'usage:write'],
    description:
      'Scopes the key is limited to (at least one); default: every scope but `usage:ingest`, which only an admin ' +
      'may give (recording usage for any user; 403 for anyone else), and `gateway` (calling the provider APIs ' +
      'under /v1, metered), which a key has only when named',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsIn(SCOPES, { each: true })
  permissions?: Scope[];

  @ApiPropertyOptional({
    example: '2027-01-01T00:00:00.000Z',
    description: 'When the key stops working (must be in the future); default: never',
  })
  @IsOptional()
  @IsInstant()
  expiresAt?: string;

  @ApiIntegerOptional({
    example: 1000,
    minimum: 1,
    maximum: MAX_CREDITS,
    description: `${LIMIT_DESCRIPTION}; default: no limit`,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  creditLimit?: number;

  @ApiPropertyOptional({
    enum: KEY_LIMIT_PERIODS,
    example: 'month',
    description: `${PERIOD_DESCRIPTION}. Only with creditLimit; default: total`,
  })
  @IsOptional()
  @IsIn(KEY_LIMIT_PERIODS)
  limitPeriod?: KeyLimitPeriod;

  @ApiPropertyOptional({
    example: 'acme',
    description:
      'A key of a membership: it charges this organisation on behalf of its creator, who must be an active member ' +
      '(403 `NOT_A_MEMBER`); it stops working (401) when the creator is removed from the org. Default: the key ' +
      "charges its creator's own account",
  })
  @IsOptional()
  @IsOrgId()
  orgId?: string;

  @ModelPatterns()
  models?: string[] | null;
}

export class UpdateApiKeyDto {
  @ApiPropertyOptional({ example: 'billing-dashboard', maxLength: 100 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string;

  @ApiIntegerOptional({
    nullable: true,
    example: 5000,
    minimum: 1,
    maximum: MAX_CREDITS,
    description:
      `${LIMIT_DESCRIPTION}. null removes the limit and its period. Credits already spent in the current ` +
      'period stay counted',
  })
  @IsOptionalOrNull()
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  creditLimit?: number | null;

  @ApiPropertyOptional({
    enum: KEY_LIMIT_PERIODS,
    example: 'week',
    description:
      `${PERIOD_DESCRIPTION}. Needs a limit (given here or already set); a new limit without it keeps the ` +
      "key's period (total for a key that had none). A new period counts from its own start",
  })
  @IsOptional()
  @IsIn(KEY_LIMIT_PERIODS)
  limitPeriod?: KeyLimitPeriod;

  @ModelPatterns()
  models?: string[] | null;
}

export class ApiKeyResponseDto {
  @ApiProperty({ example: '5f0c2a43-8a0e-4e0b-9c52-1f1d7f0b6a11', format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'alice', description: 'The owner; the key acts as this user with role user' })
  userId: string;

  @ApiProperty({ example: 'billing-dashboard' })
  name: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'The organisation the key charges on behalf of its owner (null: the owner’s own account)',
  })
  orgId: string | null;

  @ApiProperty({ example: 'acs_live_Q2x9bVR', description: 'The first characters of the key, to recognise it' })
  prefix: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['credits:read', 'usage:write'] })
  permissions: Scope[];

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: String, nullable: true, example: '2027-01-01T00:00:00.000Z' })
  expiresAt: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-11-21T12:30:00.000Z',
    description: 'Last authentication (updated at most once a minute)',
  })
  lastUsed: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  revokedAt: string | null;

  @ApiProperty({ example: true, description: 'Neither revoked nor expired' })
  isActive: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    example: null,
    description:
      'The portal session the key was created in (null: not through the portal). Ending that session revokes it',
  })
  portalSessionId: string | null;

  @ApiInteger({ nullable: true, example: 1000, description: 'null: no limit' })
  creditLimit: number | null;

  @ApiProperty({ enum: [...KEY_LIMIT_PERIODS, null], nullable: true, example: 'month', description: 'null: no limit' })
  limitPeriod: KeyLimitPeriod | null;

  @ApiInteger({
    nullable: true,
    example: 120,
    description:
      'Credits spent through the key in the current period, holds at their held amount (null: no limit). ' +
      'Settlement overruns count even beyond the limit',
  })
  spentInPeriod: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-12-01T00:00:00.000Z',
    description: 'When the current period ends and spending counts from 0 again (null: no limit, or total)',
  })
  periodResetsAt: string | null;

  @ApiProperty({
    type: [String],
    nullable: true,
    example: null,
    description: 'The models the key may meter (exact ids, or prefixes ending in `*`); null: every model',
  })
  models: string[] | null;

  @ApiPropertyOptional({
    example: true,
    description:
      'Service keys (`usage:ingest`) only: whether the key’s creator (its owner) is still an admin. A service key ' +
      'works only while its creator is an admin (401 after a demotion); this shows which keys stopped so',
  })
  creatorIsAdmin?: boolean;
}

export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'acs_live_Q2x9bVRk1mN3aF0pL7sT4uW8yZ2cE5gH6jK9oP1rS3v',
    description:
      'The key itself. Shown only in this response: store it now, it cannot be retrieved later. ' +
      '`null` when the response is an idempotent replay (Idempotent-Replayed: true): the key is never stored.',
  })
  key: string | null;
}

export class ApiKeyListResponseDto extends PageResponseDto(ApiKeyResponseDto) {}

export class ListApiKeysQueryDto extends PageQueryDto {
  @OptionalUserId("Whose keys (admin only for another user's); default: the caller")
  userId?: string;

  @ApiPropertyOptional({
    enum: SCOPES,
    example: 'usage:ingest',
    description:
      'Admins only: the keys holding this scope, of every owner unless userId names one. ' +
      '`usage:ingest` lists every service key.',
  })
  @IsOptional()
  @IsIn(SCOPES)
  scope?: Scope;
}

export class VerifyApiKeyDto {
  @ApiProperty({ example: 'acs_live_Q2x9bVRk1mN3aF0pL7sT4uW8yZ2cE5gH6jK9oP1rS3v', maxLength: 200 })
  @IsString()
  @MaxLength(200)
  key: string;
}

export const INVALID_KEY_REASONS = ['unknown', 'revoked', 'expired', 'not_a_member', 'creator_not_admin'] as const;
export type InvalidKeyReason = (typeof INVALID_KEY_REASONS)[number];

export class VerifyApiKeyResponseDto {
  @ApiProperty({ example: true })
  valid: boolean;

  @ApiPropertyOptional({ example: '5f0c2a43-8a0e-4e0b-9c52-1f1d7f0b6a11', description: 'When valid' })
  keyId?: string;

  @ApiPropertyOptional({ example: 'alice', description: 'When valid: the owner' })
  userId?: string;

  @ApiPropertyOptional({ enum: SCOPES, isArray: true, example: ['credits:read'], description: 'When valid' })
  permissions?: Scope[];

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: null,
    description: 'When valid: the organisation the key charges on behalf of its owner (null: the owner’s account)',
  })
  orgId?: string | null;

  @ApiPropertyOptional({ enum: INVALID_KEY_REASONS, example: 'revoked', description: 'When not valid' })
  reason?: InvalidKeyReason;
}
