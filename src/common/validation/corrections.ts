import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

import { ApiInteger } from './integers.js';

/**
 * Why a usage record is corrected: 1 to 500 characters, what `usage_corrections.reason` holds. A
 * re-rate's reason becomes the reason of each correction it makes, so its body takes this rule too.
 * Listed last to first, as the stack it stands for.
 */
export function CorrectionReason(example: string): PropertyDecorator {
  return applyDecorators(Length(1, 500), IsString(), ApiProperty({ example, minLength: 1, maxLength: 500 }));
}

/** A change of credits corrections made (`of`: which), described one way wherever one is answered. */
export const CreditsDelta = (example: number, of: string): PropertyDecorator =>
  ApiInteger({ example, description: `${of}: negative gives back, positive takes more` });
