import { describe, expect, it } from 'vitest';

import { queryEncodingProblem } from './request-shape.js';

describe('queryEncodingProblem', () => {
  it.each([
    '/api/users',
    '/api/users?',
    '/api/users?limit=5&cursor=abc',
    '/api/usage/records?service=%E2%82%AC&x=a+b',
    '/api/usage/records?service=%F0%9F%98%80',
    '/api/usage/records?service=%25ZZ',
    // A path's escapes are the router's business, not this check's.
    '/api/users/%ZZ',
  ])('%s is well-formed', (url) => {
    expect(queryEncodingProblem(url)).toBeUndefined();
  });

  it.each([
    '/api/users?limit=%ZZ',
    '/api/users?limit=%',
    '/api/users?limit=5%',
    '/api/users?limit=%5',
    '/api/users?limit=%u0041',
    '/api/users?%ZZ=1',
    // UTF-8 of a surrogate (a lone surrogate), overlong and truncated sequences, a bare continuation byte.
    '/api/users?limit=%ED%A0%80',
    '/api/users?limit=%C0%AF',
    '/api/users?limit=%E2%82',
    '/api/users?limit=%80',
    '/api/users?limit=%F4%90%80%80',
  ])('%s is refused', (url) => {
    expect(queryEncodingProblem(url)).toBe('query string is not valid percent-encoded UTF-8');
  });
});
