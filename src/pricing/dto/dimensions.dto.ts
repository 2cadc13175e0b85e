import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';

import { BilledPartyDto } from '../../auth/billed-party.dto.js';
import { ApiInteger } from '../../common/validation/integers.js';
import {
  checkServiceTiers,
  checkUnitPrices,
  MAX_RULE_TIERS,
  MAX_RULE_UNITS,
  MAX_UNIT_NAMES,
  tierProblem,
  type Units,
  unitsProblem,
} from '../dimensions.js';

/** One validator from a problem function (null: valid); absent is valid, null is not. */
function checked(name: string, problem: (value: unknown) => string | null): PropertyDecorator {
  return ValidateBy({
    name,
    validator: {
      validate: (value: unknown) => value === undefined || problem(value) === null,
      defaultMessage: (args) => problem(args?.value) ?? `${name} is not valid`,
    },
  });
}

const problemOf = (result: object): string | null => ('problem' in result ? (result.problem as string) : null);

export const SERVICE_TIERS_EXAMPLE = { flex: { pricePercent: '50.00' }, priority: { pricePercent: '175.00' } };
export const UNIT_PRICES_EXAMPLE = { web_search_call: '10.0000' };

/** A rule's `serviceTiers` (requests). */
export function ServiceTiersField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { pricePercent: { oneOf: [{ type: 'string' }, { type: 'number' }] } },
        required: ['pricePercent'],
      },
      example: SERVICE_TIERS_EXAMPLE,
      description:
        'Service tiers the rule prices: at each tier every price of the rule (tokens and units) × pricePercent / 100 ' +
        `(0–1000, at most 2 places). Tier names 1–32 of a-z 0-9 _ -, at most ${MAX_RULE_TIERS}; default, standard ` +
        'and an absent tier are the base prices (auto: a hold at the most expensive tier).',
    }),
    checked('serviceTiers', (value) => problemOf(checkServiceTiers(value))),
  );
}

/** A rule's or an account price's `unitPrices` (requests). */
export function UnitPricesField(replaces = false): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }] },
      example: UNIT_PRICES_EXAMPLE,
      description:
        `Credits per unit (≥ 0, at most 10 places) of each unit${replaces ? ' (these replace the rule’s)' : ''}: ` +
        `names 1–64 of a-z 0-9 _ . : -, at most ${MAX_RULE_UNITS}, such as web_search_call or image.1024x1024.hd.`,
    }),
    checked('unitPrices', (value) => problemOf(checkUnitPrices(value))),
  );
}

/** A metering write's `serviceTier`. */
export function ServiceTierField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: String,
      example: 'flex',
      description:
        'The service tier the provider served the call at (1–32 of a-z 0-9 _ -): priced at the rule’s tier; ' +
        'absent, default and standard are the base prices; a tier the rule does not price → 400 UNKNOWN_SERVICE_TIER. ' +
        '`auto`: initialize holds at the rule’s most expensive tier; elsewhere (and at settlement) the base prices.',
    }),
    checked('serviceTier', tierProblem),
  );
}

/** A metering write's `units`. */
export function UnitsField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: { type: 'integer', minimum: 0 },
      example: { web_search_call: 2 },
      description:
        `Counts of priced units beside (or instead of) tokens, at most ${MAX_UNIT_NAMES} names: each × the rule’s ` +
        'unit price, added before the one rounding; a unit the rule does not price → 400 UNPRICED_UNIT.',
    }),
    checked('units', unitsProblem),
  );
}

/** A rule's tiers and unit prices in answers. */
export function ServiceTiersAnswer(): PropertyDecorator {
  return ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: {
      type: 'object',
      properties: { pricePercent: { type: 'string' } },
      required: ['pricePercent'],
    },
    example: SERVICE_TIERS_EXAMPLE,
    description: 'The service tiers the rule prices (percents with 2 places); null: only the base prices',
  });
}

export function UnitPricesAnswer(
  description = 'Credits per unit (4 to 10 places); null: no unit priced',
): PropertyDecorator {
  return ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: { type: 'string' },
    example: UNIT_PRICES_EXAMPLE,
    description,
  });
}

/** A record's or a session's tier and units in answers. */
export function ServiceTierAnswer(description: string): PropertyDecorator {
  return ApiProperty({ type: String, nullable: true, example: null, description });
}

export function UnitsAnswer(description = 'The units priced (null: none)'): PropertyDecorator {
  return ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: { type: 'integer' },
    example: null,
    description,
  });
}

/** The billed party and the dimensions of a metering write: record, batch events and the session bodies extend it. */
export class MeteredDimensionsDto extends BilledPartyDto {
  @ServiceTierField()
  serviceTier?: string;

  @UnitsField()
  units?: Units;
}

/** A usage record's dimensions in answers: record views extend it. */
export class RecordDimensionsAnswerDto {
  @ServiceTierAnswer('The service tier it was priced at (null: the base prices)')
  serviceTier: string | null;

  @UnitsAnswer()
  units: Units | null;

  @ApiInteger({
    nullable: true,
    example: null,
    description: 'The volume step (from 0) that priced the record’s last token; null: its rule has no steps',
  })
  volumeStep: number | null;
}
