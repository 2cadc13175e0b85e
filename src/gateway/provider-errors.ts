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
