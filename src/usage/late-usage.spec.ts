import { describe, expect, it } from 'vitest';

import { DomainError } from '../common/errors/domain-error.js';
import { eventIdRetentionDays, occurredAtIn } from './late-usage.js';

const NOW = Date.parse('2026-11-21T12:00:00.000Z');

function code(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof DomainError ? error.code : 'other';
  }
}

describe('occurredAtIn', () => {
  it('accepts the window from now − LATE_USAGE_DAYS to now + 5 minutes, both ends included', () => {
    expect(occurredAtIn('2026-08-23T12:00:00Z', NOW, 90).ms).toBe(Date.parse('2026-08-23T12:00:00Z'));
    expect(occurredAtIn('2026-11-21T12:05:00Z', NOW, 90).ms).toBe(NOW + 300_000);
    expect(occurredAtIn('2026-11-21T12:00:00.123456Z', NOW, 90).iso).toBe('2026-11-21T12:00:00.123456Z');
  });

  it('refuses a millisecond beyond either end with OCCURRED_AT_OUT_OF_RANGE', () => {
    expect(code(() => occurredAtIn('2026-08-23T11:59:59.999Z', NOW, 90))).toBe('OCCURRED_AT_OUT_OF_RANGE');
    expect(code(() => occurredAtIn('2026-11-21T12:05:00.001Z', NOW, 90))).toBe('OCCURRED_AT_OUT_OF_RANGE');
    expect(code(() => occurredAtIn('2026-11-20T12:00:00Z', NOW, 0))).toBe('OCCURRED_AT_OUT_OF_RANGE');
  });
});

describe('eventIdRetentionDays', () => {
  it('is 35 days, or LATE_USAGE_DAYS when longer', () => {
    expect(eventIdRetentionDays(0)).toBe(35);
    expect(eventIdRetentionDays(90)).toBe(90);
    expect(eventIdRetentionDays(400)).toBe(400);
  });
});
