import type { GatewayFormat } from '../config/gateway-config.js';

/** The error `type` each provider gives a status (OpenAI's and Anthropic's documented names). */
const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'insufficient_quota',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'invalid_request_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
};
const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'invalid_request_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
};

/** A refusal or failure of the gateway itself, answered in the route's provider shape. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra headers (Retry-After of a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

/**
 * The body of an error in the provider's shape: OpenAI `{error: {message, type, code}}` with the
 * service's code in `code`; Anthropic `{type: "error", error: {type, message}}` with the code at the
 * start of `message` (its SDKs read nothing else).
 */
export function errorBody(format: GatewayFormat, error: GatewayError): Record<string, unknown> {
  if (format === 'anthropic')
    return {
      type: 'error',
      error: { type: ANTHROPIC_TYPES[error.status] ?? 'api_error', message: `${error.code}: ${error.message}` },
    };
  return {
    error: { message: error.message, type: OPENAI_TYPES[error.status] ?? 'api_error', param: null, code: error.code },
  };
}

/**
 * What a provider's error message may say of the operator's account with it: its organisation and
 * project ids (OpenAI `org-…`, `proj_…`; Anthropic's organisation UUID) and fragments of its key
 * (`sk-…`, `sk-ant-…`, "ending in …abcd").
 */
const SECRETS: readonly RegExp[] = [
  /\bsk-[\w*.\-\u2026]*/g,
  /\borg-[A-Za-z0-9]+/g,
  /\bproj_[A-Za-z0-9]+/g,
  /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi,
];
const ENDING_IN = /(ending in\s*)(?:\u2026|\.{3}|\*+)?\s*[\w-]+/gi;
const REDACTED = '[redacted]';

function scrubText(text: string): string {
  let out = text.replace(ENDING_IN, `$1${REDACTED}`);
  for (const secret of SECRETS) out = out.replace(secret, REDACTED);
  return out;
}

function scrubValue(value: unknown): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (Array.isArray(value)) return value.map(scrubValue);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v)]));
  return value;
}

/**
 * An upstream error body as the client gets it: the operator's ids and key fragments removed (in
 * every string of a JSON body, escapes read; else in the text). A body with none of them passes byte
 * for byte.
 */
export function scrubbedErrorBody(body: Buffer): Buffer {
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const plain = scrubText(text);
    return plain === text ? body : Buffer.from(plain);
  }
  const clean = JSON.stringify(scrubValue(parsed));
  return clean === JSON.stringify(parsed) ? body : Buffer.from(clean);
}
