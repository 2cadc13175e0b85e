// The streaming-pair scenario of npm run bench: each autocannon connection starts a session
// (POST /api/streaming-sessions/initialize, a hold) for a random user, then settles it
// (POST /api/streaming-sessions/finalize) with the sessionId the service returned, as one chat
// answer does. The target: a pair costs at most 2× a record in the same run.
import autocannon from 'autocannon';

import { failures, percentile, withCpu } from './measure.mjs';

/** A model the migrations price (0.25 credits per 1,000 tokens): the hold is priced, not free. */
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const json = { 'content-type': 'application/json' };

/**
 * autocannon's request list of one pair, metered by the service principal `authorization` ("Bearer
 * …") for the user `user()` picks: initialize, then finalize of the session it answered, then
 * `finalized(context)`. autocannon keeps one context per connection, reset when its request list
 * starts over: the user and the session of the pair in flight, and when it started.
 */
export function pairRequests(authorization, user, finalized = () => {}) {
  return [
    {
      method: 'POST',
      path: '/api/streaming-sessions/initialize',
      setupRequest: (req, context) => {
        context.userId = user();
        context.started = performance.now();
        return {
          ...req,
          headers: { ...json, authorization },
          body: JSON.stringify({ userId: context.userId, modelId: MODEL, estimatedTokens: 2000 }),
        };
      },
      onResponse: (status, body, context) => {
        if (status === 201) context.sessionId = JSON.parse(body).sessionId;
      },
    },
    {
      method: 'POST',
      path: '/api/streaming-sessions/finalize',
      // No session (initialize failed, counted as non-2xx): start the next pair instead.
      setupRequest: (req, context) =>
        context.sessionId && {
          ...req,
          headers: { ...json, authorization },
          body: JSON.stringify({ userId: context.userId, sessionId: context.sessionId, actualTokens: 1500 }),
        },
      onResponse: (status, body, context) => finalized(context),
    },
  ];
}

/**
 * Pairs for `duration` seconds (after 2 s of warm-up) on `connections` connections, metered by the
 * service principal `authorization` ("Bearer …"); `user()` picks the billed user per pair. Returns the pairs completed, pairs/s, the pair's latency (initialize
 * sent → finalize answered), failures and the service's CPU over the window.
 */
export async function runPairs(service, authorization, user, connections, duration) {
  let latencies = [];
  let pairs = 0;
  const run = (seconds) =>
    autocannon({
      url: service.base,
      connections,
      duration: seconds,
      requests: pairRequests(authorization, user, (context) => {
        pairs++;
        latencies.push(performance.now() - context.started);
      }),
    });
  await run(2);
  latencies = [];
  pairs = 0;
  const { result, cpuMicros } = await withCpu(service, () => run(duration));
  latencies.sort((a, b) => a - b);
  const ms = (p) => (latencies.length > 0 ? Math.round(percentile(latencies, p)) : null);
  return {
    pairs,
    pairsPerSecond: result.requests.average / 2,
    p50: ms(50),
    p99: ms(99),
    failed: failures(result),
    cpuMicros,
  };
}
