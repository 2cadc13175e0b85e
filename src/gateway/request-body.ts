import { GatewayError } from './provider-errors.js';

/** The largest request body a gateway route reads. */
export const BODY_LIMIT = '20mb';

/** A body parser's failure as the provider-shaped refusal (413 too large, 400 otherwise). */
export function bodyError(error: unknown): GatewayError {
  const status = (error as { status?: number }).status;
  return status === 413
    ? new GatewayError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${BODY_LIMIT}`)
    : new GatewayError(400, 'VALIDATION', 'The request body could not be read');
}

/** The request as JSON: an object naming its model (the one priced), else 400 before anything is held. */
export function parseBody(raw: unknown): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : '');
  } catch {
    throw new GatewayError(400, 'VALIDATION', 'The request body must be JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new GatewayError(400, 'VALIDATION', 'The request body must be a JSON object');
  const model = (body as Record<string, unknown>).model;
  if (typeof model !== 'string' || model.length === 0 || model.length > 100)
    throw new GatewayError(400, 'VALIDATION', 'model must be a model id of 1–100 characters');
  return body as Record<string, unknown>;
}
