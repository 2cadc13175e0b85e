import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  body: any;
  status: number | undefined;
  /** The answer was dropped: the service answered, the client never heard it. */
  dropped: boolean;
}

/**
 * A proxy on 127.0.0.1 in front of the service: it records every request the kit makes (so a test
 * sees the exact settlement bodies) and can drop the answer to the next request of a route after the
 * service has handled it (the kit's retry must then get the first result, charged once).
 */
export class ServiceProxy {
  readonly requests: ProxiedRequest[] = [];
  private drops = new Map<string, number>();
  private refusals = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    private readonly target: string,
  ) {}

  static async start(target: string): Promise<ServiceProxy> {
    let proxy!: ServiceProxy;
    const server = createServer((req, res) => void proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    proxy = new ServiceProxy(server, `http://127.0.0.1:${port}`, target);
    return proxy;
  }

  /** The next request to `path` is answered 400 by the proxy itself (the service never sees it). */
  refuseNext(path: string) {
    this.refusals.add(path);
  }

  /** The next `count` answers to `path` (e.g. `/api/streaming-sessions/finalize`) are dropped. */
  dropNext(path: string, count = 1) {
    this.drops.set(path, count);
  }

  /** The recorded requests of one session's route (`finalize`, `abort`, `initialize`). */
  of(route: 'initialize' | 'finalize' | 'abort', sessionId: string): ProxiedRequest[] {
    return this.requests.filter(
      (r) => r.path === `/api/streaming-sessions/${route}` && r.body?.sessionId === sessionId,
    );
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    const path = (req.url ?? '').split('?')[0]!;
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      path,
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      body: text ? JSON.parse(text) : undefined,
      status: undefined,
      dropped: false,
    };
    this.requests.push(entry);
    if (this.refusals.delete(path)) {
      entry.status = 400;
      const refusal = {
        statusCode: 400,
        message: ['providerUsage.usage is refused by the test'],
        error: 'Bad Request',
      };
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(refusal));
      return;
    }
    const headers = new Headers();
    for (const name of ['content-type', 'x-api-key', 'authorization', 'idempotency-key']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers.set(name, value);
    }
    const answer = await fetch(`${this.target}${req.url}`, {
      method: entry.method,
      headers,
      body: text || undefined,
    });
    const body = await answer.text();
    entry.status = answer.status;
    const drop = this.drops.get(path) ?? 0;
    if (drop > 0) {
      this.drops.set(path, drop - 1);
      entry.dropped = true;
      req.socket.destroy(); // the service handled it; the answer is lost on the way back
      return;
    }
    const out: Record<string, string> = { 'content-type': answer.headers.get('content-type') ?? 'application/json' };
    const replayed = answer.headers.get('idempotent-replayed');
    if (replayed) out['idempotent-replayed'] = replayed;
    res.writeHead(answer.status, out).end(body);
  }
}
