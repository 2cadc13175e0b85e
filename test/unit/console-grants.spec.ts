import { describe, expect, it } from 'vitest';

import { grantForm, grantOf, grantText } from '../../console/src/lib/grants.js';

/** How the console and the portal read and edit a feature's grant (docs/features.md). */
describe('feature grants on screen', () => {
  it('says each shape of grant in words', () => {
    expect(grantText(true)).toBe('granted');
    expect(grantText(false)).toBe('not granted');
    expect(grantText(null)).toBe('no grant');
    expect(grantText(undefined)).toBe('no grant');
    expect(grantText({ limit: 100000, period: 'day' })).toBe('100,000 a day');
    expect(grantText({ limit: 0, period: 'week' })).toBe('0 a week');
    expect(grantText({ limit: 10, period: 'lifetime' })).toBe('10 in all');
    expect(grantText({ value: { tokens: 200000 } })).toBe('{"tokens":200000}');
    expect(grantText({ value: null })).toBe('null');
  });

  it('opens the form on the grant in force and reads back the same grant', () => {
    for (const [type, grant] of [
      ['boolean', false],
      ['boolean', true],
      ['metered', { limit: 5, period: 'week' }],
      ['metered', { limit: 0, period: 'lifetime' }],
      ['config', { value: { tokens: 8000, models: ['a', 'b'] } }],
      ['config', { value: 'plain' }],
    ] as const) {
      expect(grantOf(type, grantForm(grant))).toEqual({ grant });
    }
    // Nothing in force: a boolean starts granted, a metered one monthly with no limit yet.
    expect(grantForm(undefined)).toEqual({ granted: true, limit: '', period: 'month', value: '' });
  });

  it('refuses what cannot be sent: a limit that is not a whole number, JSON that does not parse', () => {
    const blank = grantForm(undefined);
    expect(grantOf('metered', blank)).toEqual({ error: 'The limit is a whole number of uses, 0 or more.' });
    expect(grantOf('metered', { ...blank, limit: '2.5' })).toHaveProperty('error');
    expect(grantOf('metered', { ...blank, limit: -1 })).toHaveProperty('error');
    expect(grantOf('metered', { ...blank, limit: 12 })).toEqual({ grant: { limit: 12, period: 'month' } });
    expect(grantOf('config', { ...blank, value: '{tokens: 1}' })).toEqual({ error: 'The value is not valid JSON.' });
    expect(grantOf('config', { ...blank, value: '' })).toHaveProperty('error');
  });
});
