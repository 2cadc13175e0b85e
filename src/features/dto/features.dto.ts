import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { FEATURE_KEY_PATTERN, FEATURE_TYPES, type FeatureType } from '../grants.js';

export class CreateFeatureDto {
  @ApiProperty({
    example: 'image.generations',
    minLength: 1,
    maxLength: 64,
    pattern: FEATURE_KEY_PATTERN.source,
    description: '1–64 of a-z, 0-9, `_`, `.` and `-`; fixed once created',
  })
  @IsString()
  @Matches(FEATURE_KEY_PATTERN, { message: 'featureKey must be 1–64 of a-z, 0-9, _, . and -' })
  featureKey: string;

  @ApiProperty({ example: 'Image generations', minLength: 1, maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({
    enum: FEATURE_TYPES,
    example: 'metered',
    description: 'boolean: on or off; metered: a limit per period, consumed by checks; config: a JSON value',
  })
  @IsIn(FEATURE_TYPES)
  type: FeatureType;
}

export class UpdateFeatureDto {
  @ApiProperty({ example: 'Image generations (HD)', minLength: 1, maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;
}

export class FeatureResponseDto {
  @ApiProperty({ example: 'image.generations' })
  featureKey: string;

  @ApiProperty({ example: 'Image generations' })
  name: string;

  @ApiProperty({ enum: FEATURE_TYPES, example: 'metered' })
  type: FeatureType;

  @ApiProperty({ example: '2026-11-22T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-22T12:00:00.000Z' })
  updatedAt: string;
}

export class FeatureListResponseDto extends PageResponseDto(FeatureResponseDto) {}

export class ListFeaturesQueryDto extends PageQueryDto {}
