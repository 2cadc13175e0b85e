import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsNotEmpty,
  IsObject,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { MAX_CREDITS } from '../../common/validation/amounts.js';
import { ExactlyOneOf, NotTogetherWith } from '../../common/validation/exclusive.js';
import { IsUserId, OptionalUserId } from '../../common/validation/ids.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';

const ORG_ID_DESCRIPTION = 'An organisation’s account (not with userId)';

/** An account, a user's or an organisation's: exactly one of the two ids. */
export class AccountRefDto {
  @ApiPropertyOptional({ example: 'alice', maxLength: 50, description: 'A user’s account (not with orgId)' })
  @ValidateIf((o: AccountRefDto, v: unknown) => v !== undefined || o.orgId === undefined)
  @ExactlyOneOf('orgId')
  @IsUserId()
  userId?: string;

  @ApiPropertyOptional({ example: 'acme', maxLength: 50, description: ORG_ID_DESCRIPTION })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  orgId?: string;
}

export class CreateTransferDto {
  @ApiProperty({ type: AccountRefDto, description: 'Where the credits come from: `{userId}` or `{orgId}`' })
  @IsObject()
  @ValidateNested()
  @Type(() => AccountRefDto)
  from: AccountRefDto;

  @ApiProperty({ type: AccountRefDto, description: 'Where they go: `{userId}` or `{orgId}`, another account' })
  @IsObject()
  @ValidateNested()
  @Type(() => AccountRefDto)
  to: AccountRefDto;

  @ApiInteger({ example: 300, minimum: 1, maximum: MAX_CREDITS })
  @IsInt()
  @Min(1)
  @Max(MAX_CREDITS)
  credits: number;

  @ApiPropertyOptional({ example: 'Team budget for December', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class TransferLotDto {
  @ApiProperty({
    format: 'uuid',
    example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a',
    description: 'The allocation it left',
  })
  fromAllocationId: string;

  @ApiProperty({
    format: 'uuid',
    example: '0c9d2e1f-3a4b-4c5d-8e6f-7a8b9c0d1e2f',
    description: 'The allocation it arrived as (`source: transfer`)',
  })
  toAllocationId: string;

  @ApiInteger({ example: 200 })
  credits: number;

  @ApiProperty({ example: '2026-12-21T12:00:00.000Z', description: 'Both allocations’ expiry' })
  expiresAt: string;
}

export class TransferResponseDto {
  @ApiProperty({ format: 'uuid', example: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b' })
  id: string;

  @ApiProperty({ type: AccountRefDto, example: { userId: 'alice' } })
  from: AccountRefDto;

  @ApiProperty({ type: AccountRefDto, example: { orgId: 'acme' } })
  to: AccountRefDto;

  @ApiInteger({ example: 300 })
  credits: number;

  @ApiProperty({ type: String, nullable: true, example: 'Team budget for December' })
  reason: string | null;

  @ApiProperty({
    type: [TransferLotDto],
    description: 'One per allocation it drew on, soonest-expiring first',
    example: [
      {
        fromAllocationId: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a',
        toAllocationId: '0c9d2e1f-3a4b-4c5d-8e6f-7a8b9c0d1e2f',
        credits: 200,
        expiresAt: '2026-12-21T12:00:00.000Z',
      },
      {
        fromAllocationId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
        toAllocationId: '6f5e4d3c-2b1a-4f0e-9d8c-7b6a5f4e3d2c',
        credits: 100,
        expiresAt: '2027-01-31T23:59:59.000Z',
      },
    ],
  })
  lots: TransferLotDto[];

  @ApiProperty({ example: 'supervisor-carol' })
  createdBy: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;
}

export class TransferListResponseDto extends PageResponseDto(TransferResponseDto) {}

export class ListTransfersQueryDto extends PageQueryDto {
  @OptionalUserId('A user’s transfers, in and out (not with orgId; neither: every transfer)')
  @NotTogetherWith('orgId')
  userId?: string;

  @ApiPropertyOptional({
    example: 'acme',
    maxLength: 50,
    description: 'An organisation’s transfers, in and out (not with userId)',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  orgId?: string;
}
