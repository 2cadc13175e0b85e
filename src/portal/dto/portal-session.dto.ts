import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

import { type Scope, SCOPES } from '../../auth/roles.js';
import { IsOrgId, IsUserId } from '../../common/validation/ids.js';
import { ApiIntegerOptional } from '../../common/validation/integers.js';
import { PORTAL_SCOPES, type PortalScope } from '../entities/portal-session.entity.js';

const SCOPE_DESCRIPTION =
  '`full`: the account’s reads, the user’s API keys and redemptions; `read`: the reads only (what the ' +
  'embeddable elements need: a token placed in a page should be this one)';

export class CreatePortalSessionDto {
  @ApiProperty({ example: 'alice', maxLength: 50, description: 'The user the portal is for' })
  @IsUserId()
  userId: string;

  @ApiPropertyOptional({
    example: 'acme',
    description:
      'An organisation the user is an active member of: the session then reaches only that org’s account, ' +
      'as the user’s role in it allows',
  })
  @IsOptional()
  @IsOrgId()
  orgId?: string;

  @ApiIntegerOptional({ minimum: 60, maximum: 3600, default: 900, example: 900 })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(3600)
  ttlSeconds?: number;

  @ApiPropertyOptional({ enum: PORTAL_SCOPES, default: 'full', example: 'read', description: SCOPE_DESCRIPTION })
  @IsOptional()
  @IsIn(PORTAL_SCOPES)
  scope?: PortalScope;
}

export class PortalSessionResponseDto {
  @ApiProperty({ example: '0193a1f0-7c1e-7a34-9d2b-5f3c2e1a9b70', format: 'uuid' })
  id: string;

  @ApiProperty({
    example: 'https://credits.example.com/portal#token=acp_Q2x9bVRk1mN3aF0pL7sT4uW8yZ2cE5gH6jK9oP1rS3v',
    description: 'Where to send the user: the token rides in the fragment, which never reaches a server log',
  })
  url: string;

  @ApiProperty({
    example: 'acp_Q2x9bVRk1mN3aF0pL7sT4uW8yZ2cE5gH6jK9oP1rS3v',
    description:
      'Sent as `Authorization: Bearer <token>` (the embeddable elements take it as their `token` attribute). ' +
      'Shown only here: an idempotent replay answers without it',
  })
  token: string;

  @ApiProperty({ example: '2026-11-24T10:15:00.000Z', format: 'date-time' })
  expiresAt: string;
}

export class CurrentPortalSessionResponseDto {
  @ApiProperty({ example: '0193a1f0-7c1e-7a34-9d2b-5f3c2e1a9b70', format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'alice' })
  userId: string;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'The org whose account it reaches' })
  orgId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      'The user’s role in `orgId` now: owner, admin, billing or member (null: a user session, or no longer a member)',
  })
  orgRole: string | null;

  @ApiProperty({ enum: PORTAL_SCOPES, example: 'full', description: SCOPE_DESCRIPTION })
  scope: PortalScope;

  @ApiProperty({ example: '2026-11-24T10:15:00.000Z', format: 'date-time' })
  expiresAt: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'https://app.example/buy',
    description:
      'Where the portal sends a reader to buy a package (`userId` or `orgId`, and `packageId`, added as query parameters); null: the portal offers no purchase',
  })
  buyUrl: string | null;

  @ApiProperty({
    enum: SCOPES,
    isArray: true,
    example: ['credits:read', 'usage:read', 'sessions:read', 'pricing:read', 'gateway'],
    description:
      'The scopes a key made here can use under this configuration (the portal offers these): the read scopes; ' +
      '`usage:write` and `sessions:write` only with METERING_TRUST=users (otherwise their writes answer 403); ' +
      '`gateway` when the gateway is on',
  })
  keyScopes: Scope[];
}
