/** Text sent in a URL exactly as given (bad percent-encodings), never re-encoded. */
export class RawUrl {
  constructor(readonly text: string) {}
}
/** Text placed in a JSON body exactly as given (number literals JSON.stringify cannot write, deep nesting). */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * The odd inputs the fuzz test mixes into otherwise valid requests: what clients, proxies and attackers
 * really send, and what broke this service before (issue 9).
 */

/** Strings no field should choke on: empty, blank, invalid UTF-16, NUL, long, injections, look-alikes. */
export const ODD_STRINGS = [
  '',
  ' ',
  '\t\n',
  '\ud800',
  'a\udc00b',
  '\udbff\udfff\udbff',
  'nul\u0000byte',
  '\u0000',
  '\u200b',
  '\u202eevil',
  'e\u0301',
  '😀'.repeat(30),
  '𝕏'.repeat(101),
  'x'.repeat(5000),
  '../../etc/passwd',
  "'; DROP TABLE credit_ledger; --",
  '<script>alert(1)</script>',
  '%00',
  '%E0%A4%A',
  '\\u0000',
  '-1',
  '0',
  '1e309',
  'NaN',
  'Infinity',
  'null',
  'true',
  '{}',
  '[]',
  '__proto__',
  'constructor',
];

/**
 * Dates that are not (or are barely) dates: impossible days, ISO forms nobody here reads, the edges. None
 * is a near future instant: an allocation expiring during the run would move money on its own.
 */
export const ODD_DATES = [
  '2026-02-30',
  '2026-02-29',
  '2028-02-29',
  '2026-13-01',
  '2026-00-10',
  '2026-11-31',
  '9999-12-31',
  '9999-12-31T23:59:59.999999Z',
  '9999-12-31T23:59:59-14:00',
  '0000-01-01',
  '0001-01-01',
  '0001-01-01T00:00:00+01:00',
  '1970-01-01T00:00:00Z',
  '1969-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '10000-01-01',
  '2027-W47',
  '2027-W47-1',
  '2027-326',
  '20271122',
  '2026-01-22T24:00:00Z',
  '2026-01-22T23:59:60Z',
  '2026-01-22T12:00:00+24:00',
  '2026-01-22T12:00:00.1234567Z',
  '2026-01-22 12:00:00',
  '2026-01-22T12:00Z',
  ' 2026-01-22',
  '2026-01-22\u0000',
  '1732000000',
  'Thu, 22 Jan 2026 12:00:00 GMT',
  'now',
];

/** Fields holding instants (the schema says `string`; their descriptions say which instant). */
export const DATE_FIELDS = /^(expiresAt|effectiveFrom|effectiveTo|startDate|endDate)$/;

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const UUID = '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a';

/** Cursors a client could forge: the real shape with impossible values, other shapes, not base64. */
export const FORGED_CURSORS = [
  cursor({ t: '2026-02-30T00:00:00.000000Z', id: UUID }),
  cursor({ t: '9999-12-31T23:59:59.999999Z', id: UUID }),
  cursor({ t: '0000-01-01T00:00:00.000000Z', id: UUID }),
  cursor({ t: '2027-W47', id: UUID }),
  cursor({ t: '2026-11-22T12:00:00.000000Z', id: 'x' }),
  cursor({ t: '2026-11-22T12:00:00.000000Z', id: '99999999999999999999' }),
  cursor({ t: '2026-11-22T12:00:00.000000Z', id: -1 }),
  cursor({ t: 1732000000000, id: UUID }),
  cursor({ t: null, id: null }),
  cursor({ id: '99999999999999999999' }),
  cursor({ id: '1e3' }),
  cursor({ t: '2026-11-22T12:00:00Z\u0000', id: UUID }),
  cursor({ t: '\ud800', id: UUID }),
  cursor({ __proto__: { t: 1 } }),
  cursor([]),
  cursor('x'),
  cursor(null),
  Buffer.from('{"t":').toString('base64url'),
  Buffer.from([0xff, 0xfe, 0x00]).toString('base64url'),
  'not-a-cursor',
  '====',
  'eyJ0Ijoi',
];

/** Numbers at and beyond the edges of a schema's range, and beyond what JSON numbers hold exactly. */
export function boundaryNumbers(minimum = 0, maximum = 2_147_483_647): unknown[] {
  return [
    minimum - 1,
    minimum,
    maximum,
    maximum + 1,
    -1,
    -0,
    0.5,
    1.0000001,
    2_147_483_648,
    -2_147_483_649,
    4_294_967_296,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    1e21,
    -1e21,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ];
}

/** Values of every JSON type, for "a field of the wrong type". */
export const WRONG_TYPES: unknown[] = [null, true, false, 0, 1, -1, 1.5, '', '1', 'text', [], [1], ['a'], {}, { a: 1 }];

/**
 * Number literals JSON.stringify cannot write: sent as raw text in place of a numeric field
 * (beyond double range, negative zero, exponent forms, leading zeros that are not JSON).
 */
export const RAW_NUMBERS = ['1e400', '-1e400', '-0', '1E2', '1.0', '0.0000001', '123456789012345678901234567890', '01'];

/** Percent-encodings a URL may carry that decode to nothing sensible (sent as-is, never re-encoded). */
export const RAW_URL_FRAGMENTS = [
  '%ED%A0%80', // a lone surrogate, as a client that encodes it anyway (WTF-8) would send it
  '%ED%B0%80x',
  '%C0%AF', // an overlong '/'
  '%FF',
  '%E0%A4%A',
  '%',
  '%%',
  '%00',
  '%2F',
  '%5C',
  '%20',
  '+',
  '%2B',
  '%F0%9F%98%80',
];

/** Extra query parameters no operation declares, some named like Object.prototype members. */
export const EXTRA_QUERY_NAMES = [
  'constructor',
  '__proto__',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'unknown',
  'sort',
  'userId[]',
  'limit[0]',
];

/** Idempotency keys: a few reused ones (so replays and 422s happen), and odd ones. */
export const IDEMPOTENCY_KEYS = ['fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3'];
export const ODD_IDEMPOTENCY_KEYS = ['', ' ', 'x'.repeat(255), 'x'.repeat(256), 'caf\u00e9', '\t'];

/**
 * Nested JSON of a given depth: objects, arrays, or both alternating. Beyond 64 levels as raw text, so
 * no recursive code of the test itself (or of fast-check) walks it.
 */
export function nested(depth: number, kind: 'object' | 'array' | 'mixed'): unknown {
  if (depth > 64) {
    const open = (i: number) => (kind === 'array' || (kind === 'mixed' && i % 2 === 1) ? '[' : '{"a":');
    const close = (i: number) => (kind === 'array' || (kind === 'mixed' && i % 2 === 1) ? ']' : '}');
    let head = '';
    let tail = '';
    for (let i = 0; i < depth; i++) {
      head += open(i);
      tail = close(i) + tail;
    }
    return new RawJson(`${head}1${tail}`);
  }
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) {
    const asArray = kind === 'array' || (kind === 'mixed' && i % 2 === 1);
    value = asArray ? [value] : { a: value };
  }
  return value;
}

/** Depths around the service's limit (MAX_JSON_DEPTH, 32) and far beyond it. */
export const DEPTHS = [1, 16, 30, 31, 32, 33, 64, 1000, 5000];
