// The webhook scenario of npm run bench: an endpoint subscribed to every event ("*") on a receiver
// in this process (127.0.0.1), the record route under load while events are emitted and delivered,
// and the delivery latency from commit to receipt.
import { createServer } from 'node:http';

import { accessToken, log } from './lib.mjs';
import { percentile } from './measure.mjs';

/**
 * Events emitted per second while the record load runs. They are emitted the way money movements
 * emit theirs, through the outbox function in a transaction of their own (the bench's connection),
 * so the figure measures the webhook machinery (fan-out, NOTIFY, the delivery worker), not extra
 * HTTP requests to the service under test.
 */
const EVENT_RATE = Number(process.env.BENCH_WEBHOOK_EVENTS_PER_S ?? 20);

async function startReceiver() {
  const latencies = [];
  let received = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      received++;
      try {
        // createdAt is the emitting transaction's time: a close upper bound of the commit's age.
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (event.type === 'bench.emitted') latencies.push(at - Date.parse(event.createdAt));
      } catch {
        // not an event
      }
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    latencies,
    received: () => received,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Runs `scenario` with an endpoint subscribed to every event and EVENT_RATE events a second emitted
 * alongside; returns autocannon's result and the delivery latencies (ms, sorted).
 */
export async function withWebhooks(service, db, runScenario) {
  const receiver = await startReceiver();
  const admin = { authorization: `Bearer ${accessToken('bench-admin', 'admin')}`, 'content-type': 'application/json' };
  const created = await fetch(`${service.base}/api/webhooks`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ url: receiver.url, events: ['*'], description: 'bench receiver' }),
  });
  if (created.status !== 201) throw new Error(`webhook not created: ${created.status} ${await created.text()}`);
  const { id } = await created.json();
  let emitted = 0;
  let emitting = true;
  const emitter = (async () => {
    while (emitting) {
      const started = Date.now();
      await db.query(`SELECT emit_event('bench.emitted', NULL, jsonb_build_object('n', $1::int))`, [emitted]);
      emitted++;
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / EVENT_RATE - (Date.now() - started))));
    }
  })();
  try {
    const result = await runScenario();
    emitting = false;
    await emitter;
    // Let the last deliveries arrive.
    const deadline = Date.now() + 10_000;
    while (receiver.latencies.length < emitted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const sorted = [...receiver.latencies].sort((a, b) => a - b);
    log(`webhooks: ${emitted} events emitted, ${sorted.length} delivered, ${receiver.received()} requests`);
    return { result, latencies: sorted, emitted };
  } finally {
    emitting = false;
    await fetch(`${service.base}/api/webhooks/${id}`, { method: 'DELETE', headers: admin });
    await receiver.close();
  }
}

export function latencySummary(latencies) {
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? null };
}
