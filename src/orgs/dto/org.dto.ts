import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

import { ORG_ROLES, type OrgRole } from '../../accounts/org-roles.js';
import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { IsOrgId, IsUserId } from '../../common/validation/ids.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { ModelPatterns } from '../../common/validation/model-patterns.js';
import { IsOptional } from '../../common/validation/optional.js';

export class CreateOrgDto {
  @ApiPropertyOptional({
    example: 'acme',
    pattern: '^[a-z0-9][a-z0-9_-]{2,49}$',
    description: '3–50 of a-z, 0-9, - and _, starting with a letter or a digit; generated when absent',
  })
  @IsOptional()
  @IsOrgId()
  orgId?: string;

  @ApiProperty({ example: 'Acme Inc.', minLength: 1, maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({ example: 'alice', maxLength: 50, description: 'An existing user: the first member, role owner' })
  @IsUserId()
  ownerUserId: string;
}

export class OrgResponseDto {
  @ApiProperty({ example: 'acme' })
  orgId: string;

  @ApiProperty({ example: 'Acme Inc.' })
  name: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;

  @ApiInteger({ example: 3, description: 'Active members' })
  memberCount: number;

  @ApiInteger({ example: 5000, description: 'Credits the pool holds now (holds excluded)' })
  totalCredits: number;

  @ApiInteger({ example: 120, description: 'Credits held by active streaming sessions' })
  heldCredits: number;

  @ApiInteger({ example: 0, description: 'Credits the org owes (spent through its overdraft)' })
  debt: number;

  @ApiProperty({
    type: [String],
    nullable: true,
    example: null,
    description: 'The models its members may meter on its account (PUT …/models); null: every model',
  })
  models: string[] | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'usd',
    description: 'The currency the org’s account pays in (null: not set yet)',
  })
  billingCurrency: string | null;
}

export class OrgModelsDto {
  @ModelPatterns()
  models: string[] | null;
}

export class OrgListResponseDto extends PageResponseDto(OrgResponseDto) {}

export class ListOrgsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Case-insensitive match on org id or name', example: 'acm', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  search?: string;
}

export class MyOrgDto {
  @ApiProperty({ example: 'acme' })
  orgId: string;

  @ApiProperty({ example: 'Acme Inc.' })
  name: string;

  @ApiProperty({ enum: ORG_ROLES, example: 'member' })
  role: OrgRole;
}

export class MyOrgsResponseDto {
  @ApiProperty({ type: [MyOrgDto], description: 'The caller’s active memberships' })
  items: MyOrgDto[];
}
