import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';

import { OutcomeUnknownError } from '../common/errors/domain-error.js';
import { statementRolledBack } from './statement-errors.js';

const failed = (driverError: object) => new QueryFailedError('SELECT 1', [], driverError as Error);

describe('statementRolledBack: may the items of a failed statement go again alone', () => {
  it('yes, when the server answered the statement with an error (it rolled back)', () => {
    expect(statementRolledBack(failed(Object.assign(new Error('faulty record'), { code: 'P0001' })))).toBe(true);
    expect(statementRolledBack(failed(Object.assign(new Error('check'), { code: '23514' })))).toBe(true);
    expect(statementRolledBack(failed(Object.assign(new Error('deadlock detected'), { code: '40P01' })))).toBe(true);
  });

  it('no, when the connection was lost with it (the outcome is unknown) or nothing says what happened', () => {
    expect(statementRolledBack(failed(Object.assign(new Error('terminating connection'), { code: '57P01' })))).toBe(
      false,
    );
    expect(statementRolledBack(failed(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })))).toBe(
      false,
    );
    expect(statementRolledBack(failed(Object.assign(new Error('connection failure'), { code: '08006' })))).toBe(false);
    expect(statementRolledBack(new OutcomeUnknownError(new Error('lost during commit')))).toBe(false);
    expect(statementRolledBack(new Error('a bug'))).toBe(false);
  });
});
