import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';

import { connectionProblem } from './connection-errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('connectionProblem', () => {
  it.each([
    [withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), 'unreachable'],
    [new Error('timeout exceeded when trying to connect'), 'unreachable'],
    [withCode('the database system is starting up', '57P03'), 'unreachable'],
    [withCode('sorry, too many clients already', '53300'), 'unreachable'],
    [withCode('could not connect', '08001'), 'unreachable'],
    [
      new QueryFailedError('INSERT', [], withCode('cannot execute INSERT in a read-only transaction', '25006')),
      'unreachable',
    ],
    // A POST that never got a connection changed nothing: not OUTCOME_UNKNOWN.
    [
      new Error('Connection terminated due to connection timeout', {
        cause: new Error('Connection terminated unexpectedly'),
      }),
      'unreachable',
    ],
    [new Error('Connection terminated unexpectedly'), 'lost'],
    [withCode('terminating connection due to administrator command', '57P01'), 'lost'],
    [withCode('read ECONNRESET', 'ECONNRESET'), 'lost'],
    [withCode('connection failure', '08006'), 'lost'],
    [withCode('terminating connection due to idle-in-transaction timeout', '25P03'), 'lost'],
    [withCode('terminating connection due to idle-session timeout', '57P05'), 'lost'],
    [Object.assign(new Error('Query runner already released'), { name: 'QueryRunnerAlreadyReleasedError' }), 'lost'],
    [new QueryFailedError('COMMIT', [], withCode('terminating connection', '57P01')), 'lost'],
    [new Error('wrapped', { cause: withCode('read ECONNRESET', 'ECONNRESET') }), 'lost'],
  ])('%s → %s', (error, expected) => {
    expect(connectionProblem(error)).toBe(expected);
  });

  it.each([
    new Error('boom'),
    withCode('duplicate key', '23505'),
    new QueryFailedError('SELECT', [], withCode('syntax error', '42601')),
    'not an error',
  ])('%s is not a connection problem', (error) => {
    expect(connectionProblem(error)).toBeNull();
  });
});
