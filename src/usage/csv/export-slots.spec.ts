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

  it('a pool of 4: two users with two exports each cannot take it all; first exports still fit', () => {
    const slots = new ExportSlots(2, 4);
    expect(slots.take('alice')).toBeTypeOf('function');
    expect(slots.take('alice')).toBeTypeOf('function');
    expect(slots.take('bob')).toBeTypeOf('function');
    // Bob's second would leave less than half the pool to everyone else.
    expect(slots.tryTake('bob')).toEqual({ giveBack: null, refused: 'pool' });
    expect(slots.take('carol')).toBeTypeOf('function');
    expect(slots.tryTake('alice')).toEqual({ giveBack: null, refused: 'user' });
  });

  it('a second export is allowed again once the pool is quieter', () => {
    const slots = new ExportSlots(2, 4);
    const alice = slots.take('alice')!;
    expect(slots.take('bob')).toBeTypeOf('function');
    expect(slots.tryTake('bob').refused).toBe('pool');
    alice();
    expect(slots.take('bob')).toBeTypeOf('function');
  });
});
