import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

import { type Role, ROLES } from '../../auth/roles.js';
import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { toBoolean } from '../../common/validation/booleans.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { USER_SORTS, type UserSort } from '../users.repository.js';

export class UserResponseDto {
  @ApiProperty({ example: 'alice', maxLength: 50 })
  userId: string;

  @ApiProperty({ type: String, nullable: true, example: 'alice@example.com' })
  email: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'alice' })
  username: string | null;

  @ApiProperty({ enum: ROLES, example: 'user' })
  role: Role;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;

  @ApiInteger({
    example: 1500,
    description: 'Credits available now (unexpired allocations, holds excluded)',
  })
  totalCredits: number;
}

/** A user in the operators' list: the account with its held credits and debt. */
export class UserListItemDto extends UserResponseDto {
  @ApiInteger({
    example: 120,
    description: 'Credits held by active streaming sessions (already out of totalCredits)',
  })
  heldCredits: number;

  @ApiInteger({
    example: 0,
    description: 'Credits owed (spent through the overdraft); repaid first by the next grant',
  })
  debt: number;
}

export class UserListResponseDto extends PageResponseDto(UserListItemDto) {}

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description: 'Case-insensitive match on user id, email or username',
    example: 'ali',
    maxLength: 100,
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  search?: string;
  @ApiPropertyOptional({
    enum: USER_SORTS,
    default: 'created',
    example: '-balance',
    description: '`created` (oldest first), `-created` (newest first), `-balance` or `-debt` (largest first)',
  })
  @IsOptional()
  @IsIn(USER_SORTS)
  sort?: UserSort;

  @ApiPropertyOptional({ example: true, description: 'Only users with debt (true) or without (false)' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  hasDebt?: boolean;

  @ApiPropertyOptional({
    example: 'pro',
    maxLength: 50,
    description: 'Only users whose live subscription is to this plan',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @Matches(/^[a-z0-9-]+$/, { message: 'planId may hold only lowercase letters, digits and -' })
  @MaxLength(50)
  planId?: string;
}
