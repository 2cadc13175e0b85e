import type { Request, Response } from 'express';
import type { Dispatcher } from 'undici';

import type { GatewayRequest, Outcome } from './gateway-settlement.js';
import { errorBody, GatewayError } from './provider-errors.js';
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

/**
 * Sends an admitted request upstream (on `pool`, the upstream's connections) and its answer to the
 * client, and tells how it ended (its settlement's Outcome). The client going away cancels the upstream request at once (the same
 * AbortController); GATEWAY_UPSTREAM_TIMEOUT_SECONDS bounds the whole exchange.
 */
export async function forward(
  request: GatewayRequest,
  pool: Dispatcher,
  req: Request,
  res: Response,
  body: Record<string, unknown>,
  timeoutSeconds: number,
  /** Called with the seconds from sending to the answer's headers. */
  answered: (seconds: number) => void = () => {},
): Promise<Outcome> {
  const { route } = request;
  // One controller and one timer for the client's departure and the timeout: AbortSignal.timeout()
  // and AbortSignal.any() cost each request a signal more, and abort() without a reason a
  // DOMException with its stack (a fifth of a millisecond a request in the service's profile).
  const cancel = new AbortController();
  const ending = { departed: false, timedOut: false };
  const timer = setTimeout(() => {
    ending.timedOut = true;
    cancel.abort(TIMED_OUT);
  }, timeoutSeconds * 1000).unref();
  const onClose = () => {
    if (res.writableFinished) return;
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
  const outcome = (reason: Outcome['reason'], status: number, reported = reader): Outcome => ({
    reason,
    status,
    usage: reported.usage,
    serviceTier: reported.serviceTier,
    termination: reason === 'reported' ? reported.termination : reason,
    outputBytes: reader.outputBytes,
    sentUpstream: true,
    startUsage: reader.startUsage,
    webSearches: reader.webSearches,
    complete: reader.ended,
  });
  const { signal } = cancel;
  // Gone during admission: nothing goes upstream, and nothing is charged.
  if (res.destroyed) return { ...outcome('client_abort', 0), outputBytes: 0, sentUpstream: false };
  try {
    const sentAt = performance.now();
    const upstream = await pool.request(upstreamRequest(request.upstream, route, req.headers, sentBody, signal));
    answered((performance.now() - sentAt) / 1000);
    const status = upstream.statusCode;
    const ok = status >= 200 && status < 300;
    if (!ok || !streamed) {
      const answer = Buffer.from(await upstream.body.arrayBuffer());
      res.status(status);
      passHeaders(upstream.headers, res);
      res.end(answer);
      if (!ok) return { ...outcome('upstream_error', status), usage: null, outputBytes: 0 };
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(answer.toString('utf8'));
      } catch {
        parsed = null;
      }
      const reported = readAnswer(route, parsed);
      return {
        reason: reported.usage ? 'reported' : 'upstream_error',
        status,
        usage: reported.usage,
        serviceTier: reported.serviceTier,
        termination: reported.usage ? reported.termination : 'upstream_error',
        outputBytes: answer.length,
        sentUpstream: true,
        startUsage: null,
        webSearches: reported.webSearches,
        complete: true,
      };
    }
    res.status(status);
    passHeaders(upstream.headers, res);
    res.flushHeaders();
    await pipeEvents(upstream.body, res, reader, (usageChunk) => usageChunk && askUsage, { bytes: 0 });
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
