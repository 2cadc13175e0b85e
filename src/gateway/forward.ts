import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Dispatcher } from 'undici';

import type { GatewayConfig } from '../config/gateway-config.js';
import { AnswerScanner } from './answer-scanner.js';
import type { GatewayRequest, Outcome } from './gateway-settlement.js';
import { passBody } from './pass-through.js';
import { errorBody, GatewayError, scrubbedErrorBody } from './provider-errors.js';
import { pipeEvents, upstreamRequest } from './upstream-call.js';
import { readAnswer, StreamReader } from './usage-reader.js';

/**
 * The upstream headers a client gets: what its SDK reads to parse and pace the answer. Others (the
 * provider's organisation and project ids, its request ids, cookies, its framing) stay here: the
 * platform's account with the provider is not the user's.
 */
const PASSED_HEADERS = ['content-type', 'cache-control', 'retry-after'];

function passHeaders(from: Dispatcher.ResponseData['headers'], res: Response): void {
  for (const name of PASSED_HEADERS) {
    const value = from[name];
    if (value !== undefined) res.setHeader(name, value);
  }
}

/** Why an upstream request was cancelled: made once, as abort() would make a DOMException each time. */
const DEPARTED = new Error('the client went away');
const TIMED_OUT = new Error('GATEWAY_UPSTREAM_TIMEOUT_SECONDS passed');
const ENDED = new Error('the exchange ended');

/** The 502 of an upstream that could not be reached or did not answer in time. */
function badGateway(request: GatewayRequest, res: Response, timedOut: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const error = new GatewayError(
    502,
    timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE',
    timedOut ? 'The provider did not answer in time' : 'The provider could not be reached',
  );
  res.status(502).json(errorBody(request.route.format, error));
}

/** The gateway's settings an exchange reads. */
export type ForwardLimits = Pick<
  GatewayConfig,
  'upstreamTimeoutSeconds' | 'maxBufferBytes' | 'clientIdleSeconds' | 'maxAnswerBytes' | 'allowedBetas'
>;

const logger = new Logger('Gateway');

/** The first `max` bytes of an upstream's (error) answer; the rest is never read. */
async function bounded(body: AsyncIterable<Uint8Array>, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    parts.push(Buffer.from(chunk.subarray(0, max - length)));
    length += Math.min(chunk.length, max - length);
    if (length >= max) break;
  }
  return Buffer.concat(parts);
}

/**
 * An upstream's error answer, before any output. Its 401 or 403 is the provider refusing the
 * operator's key: the client gets 502 UPSTREAM_AUTH, the operator a log line. Any other passes with
 * its status and the operator's ids and key fragments removed (provider-errors.ts). Answers the status sent.
 */
async function upstreamFailed(
  request: GatewayRequest,
  status: number,
  upstream: Dispatcher.ResponseData,
  res: Response,
  maxBytes: number,
): Promise<number> {
  const body = scrubbedErrorBody(await bounded(upstream.body, maxBytes));
  if (status === 401 || status === 403) {
    logger.error({
      msg: 'the provider refused the gateway key (UPSTREAM_AUTH): check the upstream key',
      requestId: request.requestId,
      upstream: request.upstream.name,
      upstreamStatus: status,
      answer: body.toString('utf8').slice(0, 1000),
    });
    const error = new GatewayError(502, 'UPSTREAM_AUTH', 'The provider refused the gateway; the operator is told');
    res.status(502).json(errorBody(request.route.format, error));
    return 502;
  }
  res.status(status);
  passHeaders(upstream.headers, res);
  res.end(body);
  return status;
}

/**
 * Sends an admitted request upstream (on `pool`, the upstream's connections) and its answer to the
 * client, and tells how it ended (its settlement's Outcome). The client going away (or reading
 * nothing for GATEWAY_CLIENT_IDLE_SECONDS) cancels the upstream request at once (the same
 * AbortController); GATEWAY_UPSTREAM_TIMEOUT_SECONDS bounds the whole exchange. Answers, streamed or
 * not, pass through with backpressure, never held whole (pass-through.ts); one longer than
 * GATEWAY_MAX_ANSWER_BYTES is cut.
 */
export async function forward(
  request: GatewayRequest,
  pool: Dispatcher,
  req: Request,
  res: Response,
  body: Record<string, unknown>,
  limits: ForwardLimits,
  /** Called with the seconds from sending to the answer's headers. */
  answered: (seconds: number) => void = () => {},
): Promise<Outcome> {
  const { route } = request;
  // One controller and one timer for the client's departure and the timeout: AbortSignal.timeout()
  // and AbortSignal.any() cost each request a signal more, and abort() without a reason a
  // DOMException with its stack (a fifth of a millisecond a request in the service's profile).
  const cancel = new AbortController();
  const ending = { departed: false, timedOut: false, cut: false };
  const timer = setTimeout(() => {
    ending.timedOut = true;
    cancel.abort(TIMED_OUT);
  }, limits.upstreamTimeoutSeconds * 1000).unref();
  const onClose = () => {
    if (res.writableFinished || ending.cut) return;
    ending.departed = true;
    cancel.abort(DEPARTED);
  };
  res.on('close', onClose);
  const streamed = route.streams && body.stream === true;
  // The gateway needs a stream's usage: OpenAI chat sends it only when asked, and the client gets
  // that extra chunk only if it asked too.
  const clientAskedUsage =
    typeof body.stream_options === 'object' &&
    (body.stream_options as { include_usage?: unknown })?.include_usage === true;
  const askUsage = streamed && route.usage === 'openai.chat' && !clientAskedUsage;
  const sentBody = askUsage
    ? JSON.stringify({ ...body, stream_options: { ...(body.stream_options as object), include_usage: true } })
    : (req.body as Buffer);
  const reader = new StreamReader(route);
  /** The bytes of a non-streamed answer passed so far (a stream counts its text in `reader`). */
  const passedBytes = { bytes: 0 };
  const outcome = (reason: Outcome['reason'], status: number, reported = reader): Outcome => ({
    reason,
    status,
    usage: reported.usage,
    serviceTier: reported.serviceTier,
    termination: reason === 'reported' ? reported.termination : reason,
    // One of them is 0: a client gone mid-way through a non-streamed answer is charged what it got.
    outputBytes: reader.outputBytes + passedBytes.bytes,
    sentUpstream: true,
    startUsage: reader.startUsage,
    webSearches: reader.webSearches,
    complete: reader.ended,
  });
  /** An answer over GATEWAY_MAX_ANSWER_BYTES: the client's answer breaks off, an upstream error after output. */
  const cut = (outputBytes: number): Outcome => {
    ending.cut = true;
    res.destroy();
    return { ...outcome('upstream_error', res.statusCode), outputBytes };
  };
  const { signal } = cancel;
  // Gone during admission: nothing goes upstream, and nothing is charged.
  if (res.destroyed) return { ...outcome('client_abort', 0), outputBytes: 0, sentUpstream: false };
  try {
    const sentAt = performance.now();
    const upstream = await pool.request(
      upstreamRequest(request.upstream, route, req.headers, sentBody, signal, limits.allowedBetas),
    );
    answered((performance.now() - sentAt) / 1000);
    const status = upstream.statusCode;
    const ok = status >= 200 && status < 300;
    if (!ok) {
      const sentStatus = await upstreamFailed(request, status, upstream, res, limits.maxBufferBytes);
      return { ...outcome('upstream_error', sentStatus), usage: null, outputBytes: 0 };
    }
    res.status(status);
    passHeaders(upstream.headers, res);
    if (!streamed) {
      const scanner = new AnswerScanner();
      const passed = await passBody(upstream.body, res, limits, (chunk) => scanner.feed(chunk), passedBytes);
      if (passed === 'cut') return cut(passedBytes.bytes);
      res.end();
      const reported = readAnswer(route, scanner.answer());
      return {
        reason: reported.usage ? 'reported' : 'upstream_error',
        status,
        usage: reported.usage,
        serviceTier: reported.serviceTier,
        termination: reported.usage ? reported.termination : 'upstream_error',
        outputBytes: passedBytes.bytes,
        sentUpstream: true,
        startUsage: null,
        webSearches: reported.webSearches,
        complete: true,
      };
    }
    res.flushHeaders();
    const passed = await pipeEvents(
      upstream.body,
      res,
      reader,
      (usageChunk) => usageChunk && askUsage,
      { bytes: 0 },
      limits,
    );
    if (passed === 'cut') return cut(reader.outputBytes);
    res.end();
    if (ending.departed) return outcome('client_abort', status);
    return reader.usage && reader.ended ? outcome('reported', status) : outcome('upstream_error', status);
  } catch {
    if (ending.departed || res.destroyed) return outcome('client_abort', res.headersSent ? res.statusCode : 0);
    badGateway(request, res, ending.timedOut);
    if (!res.writableEnded) res.end();
    return outcome('upstream_error', res.statusCode);
  } finally {
    clearTimeout(timer);
    res.off('close', onClose);
    // Whatever ended the exchange, the upstream request ends with it (a no-op once it was read to its end).
    if (!signal.aborted) cancel.abort(ENDED);
  }
}
