import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';

import { checkVolume, MAX_VOLUME_STEPS, VOLUME_MODES, VOLUME_PERIODS } from '../volume-steps.js';

export const VOLUME_EXAMPLE = {
  mode: 'graduated',
  period: 'month',
  steps: [
    { upTo: 1000000, pricePercent: '100.00' },
    { upTo: null, pricePercent: '80.00' },
  ],
};

const schema = (percent: object) => ({
  type: 'object' as const,
  properties: {
    mode: { type: 'string' as const, enum: [...VOLUME_MODES] },
    period: { type: 'string' as const, enum: [...VOLUME_PERIODS] },
    steps: {
      type: 'array' as const,
      maxItems: MAX_VOLUME_STEPS,
      items: {
        type: 'object' as const,
        properties: { upTo: { type: 'integer' as const, nullable: true, minimum: 1 }, pricePercent: percent },
        required: ['upTo', 'pricePercent'],
      },
    },
  },
  required: ['mode', 'period', 'steps'],
  example: VOLUME_EXAMPLE,
});

const DESCRIPTION =
  'Volume steps (docs/pricing.md "Volume steps"): the account’s period total of the model’s tokens (a UTC month, ' +
  'or the plan period) prices each token at its step (`graduated`) or every token of a record at the step the ' +
  `total reached (\`volume\`, with a give-back when it reaches a cheaper step). At most ${MAX_VOLUME_STEPS} steps, ` +
  '`upTo` ascending and inclusive, the last null; pricePercent 0–1000 with at most 2 places, × every price of the rule.';

/** A rule's `volume` (requests). */
export function VolumeField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ ...schema({ oneOf: [{ type: 'string' }, { type: 'number' }] }), description: DESCRIPTION }),
    ValidateBy({
      name: 'volume',
      validator: {
        validate: (value: unknown) => value === undefined || !('problem' in checkVolume(value)),
        defaultMessage: (args) => {
          const result = checkVolume(args?.value);
          return 'problem' in result ? result.problem : 'volume is not valid';
        },
      },
    }),
  );
}

/** A rule's `volume` in answers. */
export function VolumeAnswer(): PropertyDecorator {
  return ApiProperty({ ...schema({ type: 'string' }), nullable: true, description: 'Volume steps; null: none' });
}
