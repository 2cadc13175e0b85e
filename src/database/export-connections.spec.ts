import { describe, expect, it } from 'vitest';

import { ExportsBusyError } from '../common/errors/domain-error.js';
import { busyWhenPoolFull } from './export-connections.js';

describe('busyWhenPoolFull', () => {
  it('turns the wait for a lent-out pool into EXPORTS_BUSY with Retry-After', () => {
    const busy = busyWhenPoolFull(new Error('timeout exceeded when trying to connect'), 10);
    expect(busy).toBeInstanceOf(ExportsBusyError);
    expect(busy).toMatchObject({ code: 'EXPORTS_BUSY', status: 503, details: { retryAfter: 10 } });
  });

  it('leaves a database that cannot be reached a database problem', () => {
    for (const error of [
      new Error('Connection terminated due to connection timeout'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ])
      expect(busyWhenPoolFull(error, 10)).toBe(error);
  });
});
