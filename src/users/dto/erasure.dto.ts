import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class EraseUserDto {
  @ApiProperty({ example: 'Erasure requested by the person (ticket 4411)', minLength: 1, maxLength: 500 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  reason: string;
}

export class ErasureResponseDto {
  @ApiProperty({ example: 'frank', maxLength: 50 })
  userId: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z', description: 'When the person was erased (the first erasure)' })
  erasedAt: string;
}
