import { ApiProperty } from '@nestjs/swagger';

import { ApiInteger } from '../../common/validation/integers.js';

/** A correction as a record's view lists it (docs/usage.md "Corrections"). */
export class RecordCorrectionDto {
  @ApiProperty({ format: 'uuid', example: '0193a8f2-6c1d-7e3a-9b2f-4d5e6f708192' })
  id: string;

  @ApiProperty({ example: 'ticket-4711' })
  correctionId: string;

  @ApiInteger({ example: -4 })
  delta: number;

  @ApiProperty({ example: '2026-11-25T12:00:00.000Z' })
  createdAt: string;
}
