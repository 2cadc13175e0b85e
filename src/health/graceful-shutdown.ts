import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';

import type { INestApplication, LoggerService } from '@nestjs/common';

import { ShutdownState } from './shutdown-state.js';

/** How long connections with a request on its way may take to finish once no new ones are accepted. */
const SETTLE_MS = 1000;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const connectionCount = (server: Server) =>
  new Promise<number>((resolve) => server.getConnections((err, n) => resolve(err ? 0 : n)));

/**
 * The shutdown sequence after SIGTERM:
 * 1. drain for `graceMs`: readiness answers 503, every request is still served, with Connection: close;
 * 2. stop accepting connections, without dropping the ones already accepted (a request may be on its
 *    way on a connection that looks idle: http.Server#close would cut it), and let them finish;
 * 3. close what is left (keep-alive connections quiet through the whole drain) and the app (pool).
 */
export async function drainAndClose(app: INestApplication, graceMs: number, logger: LoggerService): Promise<void> {
  app.get(ShutdownState).beginDrain();
  await delay(graceMs);
  logger.log('closing: no new connections, finishing in-flight requests');
  const server = app.getHttpServer() as Server;
  NetServer.prototype.close.call(server);
  const settleUntil = Date.now() + SETTLE_MS;
  while (Date.now() < settleUntil && (await connectionCount(server)) > 0) await delay(25);
  // Connections that go idle after their last response would otherwise hold the close until their
  // keep-alive timeout.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  sweep.unref();
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}
