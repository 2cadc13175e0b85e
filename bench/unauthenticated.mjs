// npm run bench:unauthenticated: what an unauthenticated POST /api/usage/records/batch with a 2 MB
// body costs the service (its own Node CPU, from GET /metrics), against a small unauthenticated GET.
// "An unauthenticated request costs no more than a small one": the two should be of one size.
import { freshDatabase, log, startServer, startService } from './lib.mjs';
import { withCpu } from './measure.mjs';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 50);
const BODY_BYTES = 2 * 1024 * 1024 - 1024; // just under BATCH_BODY_LIMIT (2 MB)

/** Batch-shaped events up to BODY_BYTES. */
function eventsBatch() {
  const events = [];
  let i = 0;
  let size = 12;
  while (size < BODY_BYTES - 200) {
    const event = JSON.stringify({ eventId: `e-${i++}`, service: 'chat', operation: 'completion', credits: 1 });
    events.push(event);
    size += event.length + 1;
  }
  const text = `{"events":[${events.join(',')}]}`;
  return text + ' '.repeat(Math.max(0, BODY_BYTES - Buffer.byteLength(text)));
}

/** The costliest shape found: empty arrays (~700,000 in 2 MB), each a value to parse and to walk. */
function emptyArrays(bytes = BODY_BYTES) {
  return `{"events":[${Array(Math.floor((bytes - 20) / 3))
    .fill('[]')
    .join(',')}]}`;
}

async function measure(service, what, send) {
  await send(); // warm-up
  const { cpuMicros } = await withCpu(service, async () => {
    for (let i = 0; i < REQUESTS; i++) {
      const status = await send();
      if (status !== 401) throw new Error(`${what}: expected 401, got ${status}`);
    }
  });
  return { scenario: what, requests: REQUESTS, 'CPU ms/req': Number((cpuMicros / REQUESTS / 1000).toFixed(2)) };
}

const server = await startServer();
const database = await freshDatabase(server.url, 'accounting_bench_unauth');
const service = await startService(database.url);
try {
  const rows = [
    await measure(service, 'GET /api/users/me, no credentials', async () => {
      const res = await fetch(`${service.base}/api/users/me`);
      await res.arrayBuffer();
      return res.status;
    }),
    // Every other route parses its body (up to BODY_LIMIT, 100 KB) before authentication.
    await measure(service, 'POST record, 100 KB of empty arrays, no credentials', async () => {
      const res = await fetch(`${service.base}/api/usage/record`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: emptyArrays(100 * 1024 - 100),
      });
      await res.arrayBuffer();
      return res.status;
    }),
  ];
  for (const [shape, body] of [
    ['events', eventsBatch()],
    ['empty arrays', emptyArrays()],
  ]) {
    log(`${shape}: ${Buffer.byteLength(body)} bytes`);
    rows.push(
      await measure(service, `POST batch, 2 MB of ${shape}, no credentials`, async () => {
        const res = await fetch(`${service.base}/api/usage/records/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );
  }
  console.table(rows);
} finally {
  await service.stop();
  await database.drop();
  await server.stop();
}
