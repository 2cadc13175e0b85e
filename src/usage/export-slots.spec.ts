import { describe, expect, it } from 'vitest';

import { ExportSlots } from './export-slots.js';

describe('ExportSlots', () => {
  it('gives each user at most `perUser` slots, and each back once', () => {
    const slots = new ExportSlots(2);
    const first = slots.take('alice');
    const second = slots.take('alice');
    expect(first).toBeTypeOf('function');
    expect(second).toBeTypeOf('function');
    expect(slots.take('alice')).toBeNull();
    expect(slots.take('bob')).toBeTypeOf('function');

    first!();
    first!(); // a second call gives back nothing more: alice has one slot free, not two
    const third = slots.take('alice');
    expect(third).toBeTypeOf('function');
    expect(slots.take('alice')).toBeNull();
    second!();
    third!();
    expect(slots.take('alice')).toBeTypeOf('function');
  });
});
