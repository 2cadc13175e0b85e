import { createParser } from 'eventsource-parser';
import type { Response } from 'express';
import type { Dispatcher } from 'undici';

import type { GatewayUpstream } from '../config/gateway-config.js';
import { type AnswerLimits, send } from './pass-through.js';
import type { GatewayRoute } from './routes.js';
import { StreamReader } from './usage-reader.js';

/**
 * The client's headers an upstream gets beside its key: the providers' own (the API version, OpenAI's
 * beta), and of `anthropic-beta` only the values GATEWAY_ALLOWED_BETAS lists (a beta can change what
 * a request costs). Every other client header stays here.
 */
const PASSED_HEADERS = ['anthropic-version', 'openai-beta'];

/** The allowed values of a comma list of betas, as one header value (null: none left). */
function allowedBetas(value: string | string[] | undefined, allowed: readonly string[]): string | null {
  if (value === undefined || allowed.length === 0) return null;
  const kept = (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((beta) => beta.trim())
    .filter((beta) => allowed.includes(beta));
  return kept.length > 0 ? kept.join(',') : null;
}

/** Each upstream's API root path (`/v1`), parsed once. */
const roots = new WeakMap<GatewayUpstream, string>();

function rootPath(upstream: GatewayUpstream): string {
  let root = roots.get(upstream);
  if (root === undefined) {
    root = new URL(upstream.baseUrl).pathname.replace(/\/$/, '');
    roots.set(upstream, root);
  }
  return root;
}

/**
 * One upstream request for the upstream's pool (UpstreamPools): its path, headers with the provider
 * key (never logged), the body in one buffer (sent with the headers in one write), and the signal
 * that cancels it. No `accept-encoding`: the answer comes as the provider writes it, passed on as is.
 */
export function upstreamRequest(
  upstream: GatewayUpstream,
  route: GatewayRoute,
  clientHeaders: Record<string, string | string[] | undefined>,
  body: Buffer | string,
  signal: AbortSignal,
  betas: readonly string[],
): Dispatcher.RequestOptions {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const name of PASSED_HEADERS) {
    const value = clientHeaders[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const beta = allowedBetas(clientHeaders['anthropic-beta'], betas);
  if (beta !== null) headers['anthropic-beta'] = beta;
  if (upstream.format === 'anthropic') {
    headers['x-api-key'] = upstream.apiKey;
    headers['anthropic-version'] ??= '2023-06-01';
  } else headers.authorization = `Bearer ${upstream.apiKey}`;
  return { method: 'POST', path: `${rootPath(upstream)}${route.path}`, headers, body, signal };
}

/**
 * Passes a streamed answer to the client event by event, as eventsource-parser reads them, with
 * backpressure (pass-through.ts send: GATEWAY_MAX_BUFFER_BYTES, GATEWAY_CLIENT_IDLE_SECONDS); `drop`
 * says which events the client does not get (OpenAI's usage chunk it did not ask for). `reader`
 * follows every event, dropped or not. Throws what the read throws (cancel, timeout, a broken
 * upstream, an idle client); `sent` tells the caller whether any output went out. Answers `cut` when
 * the upstream wrote more than GATEWAY_MAX_ANSWER_BYTES (the rest never read).
 */
export async function pipeEvents(
  body: AsyncIterable<Uint8Array>,
  res: Response,
  reader: StreamReader,
  drop: (usageChunk: boolean) => boolean,
  sent: { bytes: number },
  limits: AnswerLimits,
): Promise<'ended' | 'cut'> {
  let read = 0;
  let out = '';
  const parser = createParser({
    onEvent: (event) => {
      const { usageChunk } = reader.see(event.data);
      if (drop(usageChunk)) return;
      const data = event.data
        .split('\n')
        .map((line) => `data: ${line}\n`)
        .join('');
      out += `${event.event ? `event: ${event.event}\n` : ''}${event.id ? `id: ${event.id}\n` : ''}${data}\n`;
    },
  });
  const decoder = new TextDecoder();
  for await (const value of body) {
    read += value.length;
    if (read > limits.maxAnswerBytes) return 'cut';
    parser.feed(decoder.decode(value, { stream: true }));
    if (out === '') continue;
    const text = out;
    out = '';
    sent.bytes += text.length;
    await send(res, text, limits);
  }
  return 'ended';
}
