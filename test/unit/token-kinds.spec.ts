import { readFileSync } from 'node:fs';
import path from 'node:path';

import { getMetadataArgsStorage } from 'typeorm';
import { describe, expect, it, vi } from 'vitest';

import { CalculateCreditsDto } from '../../src/credits/dto/check-calculate.dto.js';
import { EXPORT_DATASETS } from '../../src/exports/export-datasets.js';
import { ProviderCostDto } from '../../src/pricing/dto/pricing.dto.js';
import { PricingRule } from '../../src/pricing/entities/pricing-rule.entity.js';
import { TOKEN_COLUMNS, TOKEN_FIELDS, TOKEN_KINDS, tokenColumn, tokenField } from '../../src/pricing/token-kinds.js';
import {
  AbortSessionDto,
  FinalizeSessionDto,
  InitializeSessionDto,
} from '../../src/streaming-sessions/dto/session-requests.dto.js';
import { StreamingSession } from '../../src/streaming-sessions/entities/streaming-session.entity.js';
import { CorrectUsageDto } from '../../src/usage/dto/correction.dto.js';
import { BatchEventDto } from '../../src/usage/dto/record-batch.dto.js';
import { RecordUsageDto, UsageRecordResponseDto } from '../../src/usage/dto/record-usage.dto.js';
import { TokensByKindDto } from '../../src/usage/dto/usage-stats.dto.js';
import { UsageDailyTotal } from '../../src/usage/entities/usage-daily-total.entity.js';
import { UsageRecord } from '../../src/usage/entities/usage-record.entity.js';
import { root, sourceFiles } from '../support/sources.js';

/**
 * One list per column family: the token kinds' fields, columns and mappers are derived
 * from TOKEN_KINDS (src/pricing/token-kinds.ts). What cannot be derived — the request and answer
 * DTOs (each kind its own documented property) and the entities (which describe the tables exactly)
 * — is held to the list here, so a new kind fails this test until every one of them has it.
 */
type Class = abstract new (...args: never[]) => unknown;

/** @nestjs/swagger's list of a class's documented properties (its DECORATORS.API_MODEL_PROPERTIES_ARRAY). */
const DOCUMENTED = 'swagger/apiModelPropertiesArray';

/** The properties a DTO documents in the OpenAPI document. */
function documented(dto: Class): string[] {
  const names = (Reflect.getMetadata(DOCUMENTED, dto.prototype) ?? []) as string[];
  return names.map((n) => n.replace(/^:/, ''));
}

/** The database columns an entity declares. */
function columns(entity: Class): string[] {
  return getMetadataArgsStorage()
    .columns.filter((c) => c.target === entity)
    .map((c) => c.options.name ?? c.propertyName);
}

describe('token kinds: one list', () => {
  it('derives each kind’s field and column', () => {
    expect(TOKEN_KINDS.map(tokenField)).toEqual([
      'inputTokens',
      'outputTokens',
      'cacheReadTokens',
      'cacheWriteTokens',
      'reasoningTokens',
    ]);
    expect(tokenColumn('cacheWrite')).toBe('cache_write_tokens');
    expect(TOKEN_COLUMNS).toHaveLength(TOKEN_KINDS.length);
  });

  it.each([
    RecordUsageDto,
    BatchEventDto,
    UsageRecordResponseDto,
    InitializeSessionDto,
    FinalizeSessionDto,
    AbortSessionDto,
    CalculateCreditsDto,
    CorrectUsageDto,
  ])('%o takes or answers every kind’s count', (dto) => {
    expect(documented(dto)).toEqual(expect.arrayContaining([...TOKEN_FIELDS]));
  });

  it.each([TokensByKindDto, ProviderCostDto])('%o has every kind', (dto) => {
    expect(documented(dto)).toEqual(expect.arrayContaining([...TOKEN_KINDS]));
  });

  it('the tables have every kind’s column', () => {
    expect(columns(UsageRecord)).toEqual(expect.arrayContaining([...TOKEN_COLUMNS]));
    expect(columns(UsageDailyTotal)).toEqual(expect.arrayContaining([...TOKEN_COLUMNS]));
    expect(columns(StreamingSession)).toEqual(expect.arrayContaining(TOKEN_COLUMNS.map((c) => `estimated_${c}`)));
    // Input's price is the rule's base price; every other kind has a price and a provider cost of its own.
    const prices = TOKEN_KINDS.filter((k) => k !== 'input').map((k) => tokenColumn(k).replace(/_tokens$/, ''));
    expect(columns(PricingRule)).toEqual(
      expect.arrayContaining(prices.flatMap((p) => [`${p}_price_per_1k_tokens`, `provider_${p}_cost_per_1k_tokens`])),
    );
  });

  it('the usage records’ export has every kind’s column, after `tokens`, in the list’s order', () => {
    const names = EXPORT_DATASETS.find((d) => d.name === 'usage_records')!.columns.map((c) => c.name);
    const at = names.indexOf('tokens');
    expect(names.slice(at + 1, at + 1 + TOKEN_COLUMNS.length)).toEqual([...TOKEN_COLUMNS]);
  });

  it('a kind added to the list is exported and corrected with no other change', async () => {
    vi.resetModules();
    vi.doMock('../../src/pricing/token-kinds.js', async (importOriginal) => {
      const list = await importOriginal<typeof import('../../src/pricing/token-kinds.js')>();
      return {
        ...list,
        TOKEN_KINDS: [...list.TOKEN_KINDS, 'audio'],
        TOKEN_FIELDS: [...list.TOKEN_FIELDS, 'audioTokens'],
        TOKEN_COLUMNS: [...list.TOKEN_COLUMNS, 'audio_tokens'],
      };
    });
    try {
      const exports = await import('../../src/exports/export-datasets.js');
      const usage = exports.EXPORT_DATASETS.find((d) => d.name === 'usage_records')!;
      expect(usage.columns).toContainEqual({ name: 'audio_tokens', type: 'INTEGER' });
      // A correction takes what a record takes of each kind: the record's DTO declares the new kind's
      // count (the spec above holds it to the list), and the correction's picks it from the list.
      const picked: string[] = [];
      vi.doMock('@nestjs/swagger', async (importOriginal) => {
        const swagger = await importOriginal<typeof import('@nestjs/swagger')>();
        return {
          ...swagger,
          PickType: (dto: unknown, keys: readonly string[]) => {
            picked.push(...keys);
            return swagger.PickType(dto as Parameters<typeof swagger.PickType>[0], []);
          },
        };
      });
      await import('../../src/usage/dto/correction.dto.js');
      expect(picked).toEqual(expect.arrayContaining([...TOKEN_FIELDS, 'audioTokens']));
    } finally {
      vi.doUnmock('@nestjs/swagger');
      vi.doUnmock('../../src/pricing/token-kinds.js');
      vi.resetModules();
    }
  });

  it('the SQL functions that count tokens by kind count every kind', () => {
    const files = sourceFiles('src', (name) => name.endsWith('.sql'))
      .filter((file) => file.split(path.sep).includes('sql'))
      .map((file) => ({ file, text: readFileSync(path.join(root, file), 'utf8') }))
      .filter(({ text }) => TOKEN_COLUMNS.some((column) => text.includes(column)));
    expect(files.map((f) => path.basename(f.file))).toContain('usage_rollup_compact.sql');
    const missing = files.flatMap(({ file, text }) =>
      TOKEN_COLUMNS.filter((column) => !text.includes(column)).map((column) => `${file}: ${column}`),
    );
    expect(missing).toEqual([]);
  });
});
