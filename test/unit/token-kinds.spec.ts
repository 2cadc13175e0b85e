import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { getMetadataArgsStorage } from 'typeorm';
import { describe, expect, it, vi } from 'vitest';

import { CalculateCreditsDto } from '../../src/credits/dto/check-calculate.dto.js';
import { EXPORT_DATASETS } from '../../src/exports/export-datasets.js';
import { boundSplits, heldSplit } from '../../src/gateway/worst-case.js';
import { CATALOG_KEYS } from '../../src/pricing/catalog/catalog-kinds.js';
import { ProviderCostDto } from '../../src/pricing/dto/pricing.dto.js';
import { PricingRule } from '../../src/pricing/entities/pricing-rule.entity.js';
import {
  KIND_SIDE,
  priceField,
  TOKEN_COLUMNS,
  TOKEN_FIELDS,
  TOKEN_KINDS,
  tokenColumn,
  tokenField,
} from '../../src/pricing/token-kinds.js';
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

  it('the gateway bounds each side by its kinds, in the order it always has', () => {
    const splits = boundSplits({ input: 100, output: 10 }).map(({ input, output }) => `${input}+${output}`);
    expect(splits).toEqual([
      'input+output',
      'input+reasoning',
      'cacheRead+output',
      'cacheRead+reasoning',
      'cacheWrite+output',
      'cacheWrite+reasoning',
    ]);
    const dearest = boundSplits({ input: 100, output: 10 })[3];
    expect(heldSplit(dearest)).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 100,
      cacheWriteTokens: 0,
      reasoningTokens: 10,
    });
  });

  it('the console’s list is the service’s: its kinds, their order, their sides, their price fields, the catalogue’s', async () => {
    // By its path: the console compiles under its own tsconfig, not the service's.
    const consoleKinds = (await import(path.join(root, 'console/src/lib/token-kinds.ts'))) as {
      TOKEN_KINDS: readonly string[];
      KINDS: Record<string, { side: string }>;
      CATALOGUED: Record<string, boolean>;
      priceField: (kind: string) => string;
      tokenField: (kind: string) => string;
    };
    expect([...consoleKinds.TOKEN_KINDS]).toEqual([...TOKEN_KINDS]);
    for (const kind of TOKEN_KINDS) {
      expect(consoleKinds.KINDS[kind].side).toBe(KIND_SIDE[kind]);
      expect(consoleKinds.priceField(kind)).toBe(priceField(kind));
      expect(consoleKinds.tokenField(kind)).toBe(tokenField(kind));
      expect(consoleKinds.CATALOGUED[kind]).toBe(CATALOG_KEYS[kind] !== null);
    }
  });

  it('a kind added to the list follows into the gateway’s bound, the prompt, the sums and the checks', async () => {
    // The list's own module, with one more kind on the prompt's side (what adding a kind writes there).
    const source = readFileSync(path.join(root, 'src/pricing/token-kinds.ts'), 'utf8');
    const added = source
      .replace(/'reasoning'\] as const/, "'reasoning', 'audio'] as const")
      .replace(/(KIND_SIDE[^=]*= \{[^}]*reasoning: 'completion',)/, "$1\n  audio: 'prompt',")
      .replace(/(MODEL_ONLY_KINDS[^=]*= \{[^}]*reasoning: true,)/, '$1\n  audio: true,');
    expect(added).not.toBe(source);
    const copy = path.join(mkdtempSync(path.join(tmpdir(), 'token-kinds-')), 'token-kinds.ts');
    writeFileSync(copy, added);
    vi.resetModules();
    vi.doMock('../../src/pricing/token-kinds.js', () => import(copy));
    try {
      const list = await import('../../src/pricing/token-kinds.js');
      expect(list.TOKEN_KINDS).toContain('audio');
      expect(list.PROMPT_KINDS).toContain('audio');

      // The gateway holds the input bound at every prompt kind, the new one included.
      const gateway = await import('../../src/gateway/worst-case.js');
      const splits = gateway.boundSplits({ input: 100, output: 10 });
      expect(splits).toHaveLength(4 * 2);
      const audio = splits.find((s) => (s.input as string) === 'audio' && s.output === 'output')!;
      expect(gateway.heldSplit(audio)).toMatchObject({ audioTokens: 100, outputTokens: 10, inputTokens: 0 });

      // A cut request's counts name every kind.
      const settlement = await import('../../src/gateway/gateway-settlement.js');
      const request = {
        inputBound: 100,
        outputBound: 10,
        route: { usage: 'openai.chat' },
        rule: {},
        held: { units: null, serviceTier: null },
      } as unknown as Parameters<typeof settlement.cutCounts>[0];
      const outcome = { startUsage: null, outputBytes: 4, serviceTier: null, termination: 'client_abort' };
      expect(settlement.cutCounts(request, outcome as never)).toMatchObject({
        inputTokens: 100,
        audioTokens: 0,
        outputTokens: 4,
        reasoningTokens: 0,
      });

      // The long-context threshold counts the new prompt kind.
      const math = await import('../../src/pricing/pricing-math.js');
      const prices = {
        ...math.flatPrices('1'),
        longContext: { threshold: 50, input: '2', output: '3' },
      };
      const tokens = { ...math.kindsOf(10, 1), audio: 60 } as Parameters<typeof math.pricesFor>[0];
      expect(math.pricesFor(tokens, prices).input).toBe('2');
      const sql = await import('../../src/pricing/pricing.sql.js');
      const sqlKinds = Object.fromEntries(list.TOKEN_KINDS.map((k) => [k, `$${k}`]));
      expect(sql.creditsSql('r', sqlKinds as never, '1')).toContain('$audio::bigint');

      // The tables' checks name the new column.
      const { getMetadataArgsStorage: storage } = await import('typeorm');
      await import('../../src/usage/entities/usage-record.entity.js');
      await import('../../src/streaming-sessions/entities/streaming-session.entity.js');
      const checks = storage()
        .checks.filter((c) => c.name === 'usage_records_counts_check' || c.name?.startsWith('streaming_sessions_'))
        .map((c) => c.expression);
      expect(checks.filter((e) => e.includes('audio_tokens'))).toHaveLength(3);
    } finally {
      vi.doUnmock('../../src/pricing/token-kinds.js');
      vi.resetModules();
    }
  });
});
