import { connect, createServer, type Server, type Socket } from 'node:net';

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I': no transaction open, i.e. the last one ended

/**
 * A TCP proxy between an app and PostgreSQL that loses a connection at the worst moment: after the
 * server has committed, before the answer reaches the app. That is what a database restart or a
 * network cut during COMMIT does, made deterministic.
 */
export class PgFaultProxy {
  private marker: Buffer | null = null;
  private dropped?: () => void;
  private readonly sockets = new Set<Socket>();

  private readonly server: Server;
  url = '';

  private constructor(private readonly target: URL) {
    this.server = createServer((client) => this.relay(client));
  }

  /** Listens on 127.0.0.1; `url` is `targetUrl` with the proxy's address. */
  static async start(targetUrl: string): Promise<PgFaultProxy> {
    const proxy = new PgFaultProxy(new URL(targetUrl));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    const url = new URL(targetUrl);
    url.hostname = '127.0.0.1';
    url.port = String((proxy.server.address() as { port: number }).port);
    proxy.url = url.toString();
    return proxy;
  }

  /**
   * Arms the proxy: the next connection that sends `marker` (any text in a statement or its
   * parameters) is cut the moment the server reports its work committed (the first ReadyForQuery
   * with status idle after the marker); that answer is withheld. Resolves once the cut happened.
   */
  cutAfterCommit(marker: string): Promise<void> {
    this.marker = Buffer.from(marker);
    return new Promise((resolve) => (this.dropped = resolve));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private relay(client: Socket): void {
    const upstream = connect(Number(this.target.port || 5432), this.target.hostname);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());

    let armed = false;
    let seen = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      if (!armed && this.marker) {
        // Keeps a tail so a marker split across two chunks is still found.
        seen = Buffer.concat([seen, chunk]);
        if (seen.includes(this.marker)) {
          armed = true;
          this.marker = null;
        }
        seen = seen.subarray(Math.max(0, seen.length - 1024));
      }
      upstream.write(chunk);
    });

    // Once armed, answers are passed on whole (up to each ReadyForQuery), so the one to withhold
    // can be dropped entirely. The app sends one statement at a time, so arming happens between answers.
    let pending = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      if (!armed) {
        client.write(chunk);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      let offset = 0;
      let relayed = 0;
      while (pending.length - offset >= 5) {
        const end = offset + 1 + pending.readInt32BE(offset + 1);
        if (end > pending.length) break;
        if (pending[offset] === READY_FOR_QUERY) {
          if (pending[offset + 5] === IDLE) {
            client.destroy();
            upstream.destroy();
            this.dropped?.();
            return;
          }
          client.write(pending.subarray(relayed, end));
          relayed = end;
        }
        offset = end;
      }
      pending = pending.subarray(relayed);
    });
  }
}
