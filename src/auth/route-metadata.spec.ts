import { SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { describe, expect, it, vi } from 'vitest';

import { CachedReflector } from './route-metadata.js';

const RULE = 'test:rule';
const OTHER = 'test:other';

@SetMetadata(RULE, 'class rule')
class Base {
  @SetMetadata(RULE, 'handler rule')
  withRule() {}
  inherited() {}
}

@SetMetadata(RULE, 'subclass rule')
class Sub extends Base {}

class Bare {
  nothing() {}
}

describe('CachedReflector', () => {
  const plain = new Reflector();

  it('answers what Reflector answers, for every handler, class and key', () => {
    const cached = new CachedReflector();
    const cases: [string, [object, object]][] = [
      [RULE, [Base.prototype.withRule, Base]],
      [RULE, [Base.prototype.inherited, Base]],
      // The same handler function under another controller: that controller's own class rule.
      [RULE, [Sub.prototype.inherited, Sub]],
      [OTHER, [Base.prototype.withRule, Base]],
      [RULE, [Bare.prototype.nothing, Bare]],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [key, targets] of cases) {
        expect(cached.getAllAndOverride(key, targets as never)).toBe(plain.getAllAndOverride(key, targets as never));
      }
    }
    expect(cached.getAllAndOverride(RULE, [Sub.prototype.inherited, Sub])).toBe('subclass rule');
    expect(cached.getAllAndOverride(RULE, [Base.prototype.inherited, Base])).toBe('class rule');
    expect(cached.getAllAndOverride(OTHER, [Base.prototype.withRule, Base])).toBeUndefined();
  });

  it('reads the metadata once per handler, class and key', () => {
    const cached = new CachedReflector();
    const read = vi.spyOn(Reflect, 'getMetadata');
    try {
      for (let i = 0; i < 5; i++) cached.getAllAndOverride(RULE, [Base.prototype.withRule, Base]);
      for (let i = 0; i < 5; i++) cached.getAllAndOverride(OTHER, [Base.prototype.withRule, Base]);
      // Reflector reads the handler, then the class: at most two reads per distinct lookup.
      expect(read.mock.calls.length).toBeGreaterThan(0);
      expect(read.mock.calls.length).toBeLessThanOrEqual(4);
    } finally {
      read.mockRestore();
    }
  });
});
