import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

import { type Role, ROLES } from '../../auth/roles.js';
import { PageQueryDto } from '../../common/http/pagination.js';
import { IsOptional } from '../../common/validation/optional.js';

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

  @ApiProperty({ example: 1500, description: 'Credits available now (unexpired allocations, holds excluded)' })
  totalCredits: number;
}

export class UserListResponseDto {
  @ApiProperty({ type: [UserResponseDto] })
  items: UserResponseDto[];

  @ApiProperty({ type: String, nullable: true, example: null })
  nextCursor: string | null;
}

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
}
