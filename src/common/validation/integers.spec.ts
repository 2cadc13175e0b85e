import 'reflect-metadata';

import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';

import { PageQueryDto } from '../http/pagination.js';
import { toDecimalInteger } from './integers.js';

/** What the validation pipe makes of `?limit=<text>` (the query parser hands values over as text). */
function limitOf(text: string) {
  const query = plainToInstance(PageQueryDto, { limit: text });
  const errors = validateSync(query, { whitelist: true, forbidNonWhitelisted: true });
  return errors.length === 0 ? { limit: query.limit } : { refused: errors[0].constraints };
}

describe('integer query parameters', () => {
  it.each([
    ['5', 5],
    ['500', 500],
    ['05', 5],
  ])('%s is the number %d', (text, value) => {
    expect(limitOf(text)).toEqual({ limit: value });
  });

  it.each(['0x10', ' 5', '5 ', '\t5', '0b1', '0o7', '1e2', '+5', '5.0', '1_0', '١٢', '５', '', 'Infinity', '[object]'])(
    '%j is refused as not written in decimal digits',
    (text) => {
      expect(limitOf(text)).toEqual({
        refused: expect.objectContaining({ isInt: 'limit must be an integer written in decimal digits' }),
      });
    },
  );

  it('decimal integers out of range are refused by the range, not by the form', () => {
    expect(limitOf('0')).toEqual({ refused: { min: 'limit must not be less than 1' } });
    expect(limitOf('-3')).toEqual({ refused: { min: 'limit must not be less than 1' } });
    expect(limitOf('99999999999999999999')).toEqual({ refused: { max: 'limit must not be greater than 500' } });
  });

  it('leaves anything but text alone (repeated parameters arrive as an array)', () => {
    expect(toDecimalInteger({ value: ['1', '2'] })).toEqual(['1', '2']);
    expect(toDecimalInteger({ value: undefined })).toBeUndefined();
  });
});
