import { ApiProperty, getSchemaPath } from '@nestjs/swagger';

/** The price catalogue's entry that priced a write (docs/pricing.md "The price catalogue"). */
export class PriceSourceDto {
  @ApiProperty({
    example: '0.1.8',
    description: 'The catalogue version (@pydantic/genai-prices) the price was stored from',
  })
  catalog: string;

  @ApiProperty({
    example: 'claude-sonnet-4-5',
    description: 'The catalogue model id whose matching rule accepted the model',
  })
  model: string;
}

/** `source`: who priced it. */
export const PRICE_ORIGINS = ['rule', 'catalog', 'default'] as const;

/** The `priceSource` field of an answer: the catalogue entry, null when a rule or the default priced it. */
export function PriceSourceAnswer(): PropertyDecorator {
  return ApiProperty({
    // OpenAPI 3.0 has no nullable $ref: null is its own branch (as a plan's price).
    anyOf: [{ $ref: getSchemaPath(PriceSourceDto) }, { type: 'object', nullable: true, enum: [null] }],
    description: 'The price catalogue entry that priced it (source `catalog`); null when a rule or the default did',
  });
}
