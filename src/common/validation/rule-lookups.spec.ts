import { getMetadataStorage, IsInt, IsOptional, IsString, validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';

import { keepRuleLookups } from './rule-lookups.js';

class Base {
  @IsString()
  name!: string;
}

class Child extends Base {
  @IsOptional()
  @IsInt()
  count?: number;
}

const errorsOf = (value: object) =>
  validateSync(value, { whitelist: true, forbidNonWhitelisted: true }).map((e) => [e.property, e.constraints]);

describe('keepRuleLookups', () => {
  it('answers every lookup as class-validator does, and sees a rule added later', () => {
    const storage = getMetadataStorage();
    const fresh = (target: new () => object) => storage.getTargetValidationMetadatas(target, '', false, false);
    const before = { base: fresh(Base), child: fresh(Child) };
    const invalid = Object.assign(new Child(), { name: 3, count: 'x', extra: true });
    const expected = errorsOf(invalid);

    keepRuleLookups();
    keepRuleLookups(); // once per process, whoever calls it
    expect(fresh(Base)).toEqual(before.base);
    expect(fresh(Child)).toEqual(before.child);
    expect(fresh(Child)).toBe(fresh(Child)); // kept
    expect(errorsOf(invalid)).toEqual(expected);
    expect(errorsOf(Object.assign(new Child(), { name: 'a', count: 2 }))).toEqual([]);

    // A rule added afterwards (a class defined later) is seen: the kept lookups are dropped.
    class Later extends Child {
      @IsInt()
      size!: number;
    }
    expect(errorsOf(Object.assign(new Later(), { name: 'a', size: 'big' }))).toEqual([
      ['size', { isInt: 'size must be an integer number' }],
    ]);
    expect(fresh(Child)).toEqual(before.child);

    // A rule added to a class whose lookup is kept: the kept one is dropped, the new rule applies.
    IsInt()(Child.prototype, 'late');
    expect(fresh(Child)).toHaveLength(before.child.length + 1);
    expect(errorsOf(Object.assign(new Child(), { name: 'a', late: 'x' }))).toEqual([
      ['late', { isInt: 'late must be an integer number' }],
    ]);
  });
});
