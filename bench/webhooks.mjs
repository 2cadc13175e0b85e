// The webhook scenario of npm run bench: an endpoint subscribed to every event ("*") on a receiver
// in this process (127.0.0.1), the record route under load while events are emitted and delivered,
// interleaved with windows without it, and the delivery latency from commit to receipt.
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
 * One measured window (`measureWindow()`) with an endpoint subscribed to every event and EVENT_RATE
 * events a second emitted alongside. The deliveries are awaited before it returns, so their work
 * does not spill into the next window; the endpoint is then deleted.
 */
async function subscribedWindow(service, db, receiver, measureWindow) {
  const admin = { authorization: `Bearer ${accessToken('bench-admin', 'admin')}`, 'content-type': 'application/json' };
  const created = await fetch(`${service.base}/api/webhooks`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ url: receiver.url, events: ['*'], description: 'bench receiver' }),
  });
  if (created.status !== 201) throw new Error(`webhook not created: ${created.status} ${await created.text()}`);
  const { id } = await created.json();
  const deliveredBefore = receiver.latencies.length;
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
    const measured = await measureWindow();
    emitting = false;
    await emitter;
    const deadline = Date.now() + 10_000;
    while (receiver.latencies.length - deliveredBefore < emitted && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    return { measured, emitted };
  } finally {
    emitting = false;
    await emitter;
    await fetch(`${service.base}/api/webhooks/${id}`, { method: 'DELETE', headers: admin });
  }
}

/**
 * `rounds` rounds of one window without and one with a webhook on "*", in ABBA order (even rounds
 * without first, odd ones with first), so a steady drift over the run (tables growing, the machine's
 * load) weighs on both sides alike and one disturbed window cannot decide the ratio alone.
 * Returns each round's two measured windows, the delivery latencies of all with-windows (ms,
 * sorted) and the events emitted.
 */
export async function webhookRounds(service, db, measureWindow, rounds) {
  const receiver = await startReceiver();
  const result = { rounds: [], emitted: 0 };
  try {
    for (let i = 0; i < rounds; i++) {
      const round = {};
      for (const side of i % 2 === 0 ? ['without', 'with'] : ['with', 'without']) {
        if (side === 'without') {
          round.without = await measureWindow();
        } else {
          const { measured, emitted } = await subscribedWindow(service, db, receiver, measureWindow);
          round.with = measured;
          result.emitted += emitted;
        }
      }
      result.rounds.push(round);
    }
    result.latencies = [...receiver.latencies].sort((a, b) => a - b);
    log(
      `webhooks: ${result.emitted} events emitted, ${result.latencies.length} delivered, ${receiver.received()} requests`,
    );
    return result;
  } finally {
    await receiver.close();
  }
}

export function latencySummary(latencies) {
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? null };
}
