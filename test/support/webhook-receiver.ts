import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Webhook } from 'standardwebhooks';

/** One request the receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent. */
  body: string;
  event: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
  at: number;
}

type Responder = (
  request: Received,
) => { status: number; headers?: Record<string, string>; body?: string } | 'hang' | 'reset';

/**
 * A real HTTP receiver on 127.0.0.1 (only loopback: tests never send traffic anywhere else). It keeps
 * every request and answers what `respond` says (default 200); `'hang'` never answers, `'reset'` cuts
 * the connection.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  respond: Responder = () => ({ status: 200 });
  private server!: Server;
  private waiters: Array<{ match: (r: Received) => boolean; resolve: (r: Received) => void }> = [];
  private readonly hanging = new Set<() => void>();

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    receiver.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let event: Received['event'];
        try {
          event = JSON.parse(body);
        } catch {
          event = { id: '', type: '', createdAt: '', data: {} };
        }
        const got: Received = { path: req.url ?? '', headers: req.headers, body, event, at: Date.now() };
        receiver.received.push(got);
        const answer = receiver.respond(got);
        if (answer === 'hang') {
          receiver.hanging.add(() => res.destroy());
        } else if (answer === 'reset') {
          req.socket.destroy();
        } else {
          res.writeHead(answer.status, answer.headers ?? {});
          res.end(answer.body ?? '');
        }
        for (const w of [...receiver.waiters]) {
          if (w.match(got)) {
            receiver.waiters.splice(receiver.waiters.indexOf(w), 1);
            w.resolve(got);
          }
        }
      });
    });
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Resolves with the first request (already received or to come) that matches. */
  waitFor(match: (r: Received) => boolean, timeoutMs = 15_000, what = 'a webhook'): Promise<Received> {
    const found = this.received.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const done = (r: Received) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.waiters.push({ match, resolve: done });
    });
  }

  /**
   * The helper for "each event type triggered by the real flows": waits for an event of `type` whose
   * data matches `data` (a subset), e.g. `waitForEvent('balance.low', { userId })`.
   */
  waitForEvent(type: string, data: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<Received> {
    return this.waitFor(
      (r) => r.event.type === type && Object.entries(data).every(([k, v]) => r.event.data[k] === v),
      timeoutMs,
      `${type} ${JSON.stringify(data)}`,
    );
  }

  /** Checks a request with the reference Standard Webhooks library; returns the parsed event. */
  static verify(secret: string, r: Received): unknown {
    return new Webhook(secret).verify(r.body, {
      'webhook-id': String(r.headers['webhook-id']),
      'webhook-timestamp': String(r.headers['webhook-timestamp']),
      'webhook-signature': String(r.headers['webhook-signature']),
    });
  }

  async close(): Promise<void> {
    for (const cut of this.hanging) cut();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
