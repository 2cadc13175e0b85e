import { describe, expect, it } from 'vitest';

import { scrubbedErrorBody } from './provider-errors.js';

const scrub = (text: string) => scrubbedErrorBody(Buffer.from(text)).toString('utf8');

describe('scrubbedErrorBody', () => {
  it('passes a body with nothing of the operator byte for byte', () => {
    const body = '{ "error": {"message": "Overloaded", "type": "server_error"} }';
    expect(scrub(body)).toBe(body);
    expect(scrub('upstream connect error')).toBe('upstream connect error');
  });

  it('removes organisation and project ids, UUIDs and key fragments, in JSON strings and in text', () => {
    const json = JSON.stringify({
      error: {
        message:
          'in organization org-AbC123 for proj_Xy9 (8c3c5f02-7d4e-4b1a-9f6e-2a7b9c1d0e53): key sk-proj-****abcd, sk-ant-api03-Zx…Qw7A, the key ending in …wxyz',
        type: 'tokens',
      },
    });
    const out = JSON.parse(scrub(json)) as { error: { message: string; type: string } };
    expect(out.error).toEqual({
      message:
        'in organization [redacted] for [redacted] ([redacted]): key [redacted], [redacted], the key ending in [redacted]',
      type: 'tokens',
    });
    // A JSON escape (\u2026) is read before scrubbing.
    expect(scrub('{"m":"ending in \\u2026abcd"}')).toBe('{"m":"ending in [redacted]"}');
    expect(scrub('bad key sk-abc123 for org-Q1')).toBe('bad key [redacted] for [redacted]');
  });
});
