// The provider stand-in's model, key and non-streamed answer, shared by the gateway benches
// (bench/gateway.mjs, bench/gateway-together.mjs, bench/stages.mjs): each measures the gateway against
// the same upstream, set up the same way; the last two check its money the same way.
import http from 'node:http';

export const MODEL = 'bench-gateway-model';
export const PROVIDER_KEY = 'sk-bench-provider-key-0123456789';

export const usage = { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 };
export const answer = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: MODEL,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, friend!' }, finish_reason: 'stop' }],
  usage,
});

/** A non-streamed chat completion the benches send through the gateway (its hold bounded by max_tokens). */
export const REQUEST = JSON.stringify({
  model: MODEL,
  messages: [{ role: 'user', content: 'Say hello' }],
  max_tokens: 100,
});

/**
 * A stand-in on 127.0.0.1 that answers every request with `answer` at once. Resolves to its base URL
 * (an OpenAI upstream's, ending in /v1) and a close().
 */
export async function nonStreamedStandIn() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { upstream: `http://127.0.0.1:${server.address().port}/v1`, close: () => server.close() };
}

/** The service's environment that routes MODEL to the stand-in at `upstream`. */
export const gatewayEnvironment = (upstream) => ({
  // NODE_ENV=production refuses an upstream on a private address: the benches run the service as 'test'.
  GATEWAY_UPSTREAMS: JSON.stringify([
    { name: 'bench', format: 'openai', baseUrl: upstream, apiKeyEnv: 'BENCH_PROVIDER_KEY', models: [MODEL] },
  ]),
  BENCH_PROVIDER_KEY: PROVIDER_KEY,
  // The stand-in is on 127.0.0.1: a plain-http upstream on a private address.
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
});

/**
 * MODEL's price, set by an admin's `adminAuth`, and a key with the gateway scope for each of `userAuths`
 * (users' "Bearer …" JWTs), created by the users themselves. Resolves to the keys, in order.
 */
export async function gatewayKeys(base, adminAuth, userAuths) {
  const post = (path, authorization, body) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const rule = await post('/api/pricing', adminAuth, {
    modelId: MODEL,
    pricePer1kTokens: '1',
    outputPricePer1kTokens: '2',
  });
  if (rule.status !== 201) throw new Error(`pricing rule: ${rule.status} ${await rule.text()}`);
  const keys = [];
  for (const authorization of userAuths) {
    const created = await post('/api/api-keys', authorization, { name: 'bench gateway', permissions: ['gateway'] });
    if (created.status !== 201) throw new Error(`api key: ${created.status} ${await created.text()}`);
    keys.push((await created.json()).key);
  }
  return keys;
}

/**
 * The gateway's money, from its sessions (MODEL's only): how many, how many still active, how many
 * charged beyond their hold (an overrun or a shortfall), how many settled without exactly one usage
 * record, and the gateway's records. Every session settled once within its hold: active,
 * beyond_hold and unrecorded 0, records = sessions.
 */
export async function gatewayMoney(pool) {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS sessions,
            count(*) FILTER (WHERE ss.status = 'active')::int AS active,
            count(*) FILTER (WHERE ss.actual_credits > ss.allocated_credits OR ss.shortfall > 0)::int AS beyond_hold,
            (SELECT count(*)::int FROM usage_records ur WHERE ur.service = 'gateway') AS records,
            count(*) FILTER (WHERE (SELECT count(*) FROM usage_records ur WHERE ur.id = ss.usage_record_id) <> 1
                               AND ss.status <> 'active')::int AS unrecorded
       FROM streaming_sessions ss
      WHERE ss.model_id = $1`,
    [MODEL],
  );
  return rows[0];
}

/** Every gateway session settled exactly once, none beyond its hold. */
export const settledOnce = (m) =>
  m.active === 0 && m.beyond_hold === 0 && m.unrecorded === 0 && m.records === m.sessions;
