import 'reflect-metadata';

import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';

import { AutoRechargeAccountDto } from '../../credits/dto/auto-recharge.dto.js';
import { ListBudgetsQueryDto } from '../../credits/dto/budgets.dto.js';
import { RunwayQueryDto } from '../../credits/dto/runway.dto.js';
import { ListPurchasesQueryDto } from '../../purchases/dto/purchases.dto.js';

const PATTERN = 'orgId must be 3–50 of a-z 0-9 - _, starting with a letter or digit';

/** The constraints an `orgId` breaks in `dto` (none: the value passes). */
function orgIdRefusal(dto: new () => object, orgId: unknown) {
  const errors = validateSync(plainToInstance(dto, { orgId }), { whitelist: true, forbidNonWhitelisted: true });
  return errors.find((e) => e.property === 'orgId')?.constraints ?? null;
}

describe('an optional orgId (OptionalOrgId)', () => {
  const dtos = [ListPurchasesQueryDto, ListBudgetsQueryDto, AutoRechargeAccountDto, RunwayQueryDto];

  it.each(dtos.map((dto) => [dto.name, dto] as const))('%s takes an org id, or none', (_name, dto) => {
    expect(orgIdRefusal(dto, 'acme')).toBeNull();
    expect(orgIdRefusal(dto, 'a1-b_c')).toBeNull();
    expect(orgIdRefusal(dto, undefined)).toBeNull();
  });

  it.each(dtos.map((dto) => [dto.name, dto] as const))(
    '%s refuses one out of the pattern, saying why',
    (_name, dto) => {
      for (const bad of ['Acme', 'ab', '-acme', 'acme corp', 'a'.repeat(51)]) {
        expect(orgIdRefusal(dto, bad)).toEqual({ matches: PATTERN });
      }
      expect(orgIdRefusal(dto, 42)).toEqual({ isString: 'orgId must be a string', matches: PATTERN });
    },
  );
});
