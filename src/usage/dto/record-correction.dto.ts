import { PickType } from '@nestjs/swagger';

import { UsageCorrectionResponseDto } from './correction.dto.js';

/** A correction as a record's view lists it (docs/usage.md "Corrections"): a correction's answer, less the record's figures. */
export class RecordCorrectionDto extends PickType(UsageCorrectionResponseDto, [
  'id',
  'correctionId',
  'delta',
  'createdAt',
] as const) {}
