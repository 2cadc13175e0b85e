import 'reflect-metadata';

import { type ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { IsArray, IsInt, IsString, MaxLength, Min } from 'class-validator';
import { describe, expect, it } from 'vitest';

import { RecordBatchDto } from '../../usage/dto/record-batch.dto.js';
import { BodyValidationPipe, FlatBody } from './body-validation.pipe.js';
import { IsOptional } from './optional.js';

@FlatBody()
class FlatDto {
  @IsString()
  @MaxLength(5)
  name: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  count?: number;

  @IsOptional()
  @IsArray()
  items?: unknown[];
}

/** Nest's own pipe with the app's options: what a @FlatBody() body must answer exactly as. */
const generic = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
const pipe = new BodyValidationPipe();

async function outcome(p: ValidationPipe, value: unknown, metatype: ArgumentMetadata['metatype']) {
  try {
    const result = (await p.transform(value, { type: 'body', metatype })) as object;
    return { ok: true, instance: result?.constructor?.name, value: JSON.parse(JSON.stringify(result)) as unknown };
  } catch (error) {
    if (!(error instanceof BadRequestException)) throw error;
    return { ok: false, response: error.getResponse() };
  }
}

const BODIES: unknown[] = [
  { name: 'ab' },
  { name: 'ab', count: 3, items: [{ a: 1 }, 'x', null] },
  { name: 'toolong' },
  { name: 'ab', count: -1 },
  { name: 'ab', count: null },
  { name: 'ab', extra: true },
  { count: 'x', other: 1 },
  {},
  null,
  'text',
  [],
  [{ name: 'ab' }],
  JSON.parse('{"name":"ab","__proto__":{"polluted":true}}'),
  JSON.parse('{"name":"ab","constructor":{"prototype":{"polluted":true}}}'),
  JSON.parse('{"name":"ab","items":[{"__proto__":{"polluted":true},"a":1}]}'),
];

const BATCHES: unknown[] = [
  { events: [{ eventId: 'e1', service: 's', operation: 'o', credits: 1 }] },
  { events: [] },
  { events: 'nope' },
  { events: Array.from({ length: 1001 }, () => ({})) },
  { events: [{}], more: 1 },
  {},
];

describe('BodyValidationPipe', () => {
  it.each(BODIES.map((b) => [JSON.stringify(b), b]))('answers %s as Nest’s ValidationPipe does', async (_, body) => {
    const copy = () => (body === null || typeof body !== 'object' ? body : structuredClone(body));
    expect(await outcome(pipe, copy(), FlatDto)).toEqual(await outcome(generic, copy(), FlatDto));
  });

  it.each(BATCHES.map((b) => [JSON.stringify(b).slice(0, 60), b]))(
    'answers the batch body %s as Nest’s ValidationPipe does',
    async (_, body) => {
      expect(await outcome(pipe, structuredClone(body), RecordBatchDto)).toEqual(
        await outcome(generic, structuredClone(body), RecordBatchDto),
      );
    },
  );

  it('hands a flat body’s nested values over as they came, without copying them', async () => {
    const items = [{ a: 1 }];
    const result = (await pipe.transform({ name: 'ab', items }, { type: 'body', metatype: FlatDto })) as FlatDto;
    expect(result).toBeInstanceOf(FlatDto);
    expect(result.items).toBe(items);
  });

  it('leaves a prototype-touching key to the generic path, which pollutes nothing', async () => {
    await outcome(pipe, JSON.parse('{"name":"ab","__proto__":{"polluted":true}}'), FlatDto);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
