import { connect, createServer, type Server, type Socket } from 'node:net';

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I': no transaction open, i.e. the last one ended

/**
 * A TCP proxy between an app and PostgreSQL that loses a connection at the worst moment: after the
 * server has committed, before the answer reaches the app. That is what a database restart or a
 * network cut during COMMIT does, made deterministic.
 */
interface Fault {
  marker: Buffer;
  /** `sent`: cut instead of passing on the statement; `committed`: cut instead of its commit's answer. */
  when: 'sent' | 'committed';
  /** Occurrences of the marker still to let through before the fault applies. */
  skip: number;
  done: () => void;
}

export class PgFaultProxy {
  private fault: Fault | null = null;
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
   * The next connection that sends `marker` (any text in a statement or its parameters) is cut the
   * moment the server reports its work committed (the first ReadyForQuery with status idle after
   * the marker); that answer is withheld. Resolves once the cut happened.
   */
  cutAfterCommit(marker: string): Promise<void> {
    return this.arm(marker, 'committed', 1);
  }

  /** The connection that sends `marker` for the `occurrence`th time is cut before it reaches the server. */
  cutWhenSent(marker: string, occurrence = 1): Promise<void> {
    return this.arm(marker, 'sent', occurrence);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private arm(marker: string, when: Fault['when'], occurrence: number): Promise<void> {
    return new Promise((done) => (this.fault = { marker: Buffer.from(marker), when, skip: occurrence - 1, done }));
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
    const cut = (fault: Fault) => {
      client.destroy();
      upstream.destroy();
      fault.done();
    };

    // The fault this connection carries once it sent the marker.
    let armed: Fault | null = null;
    client.on('data', (chunk: Buffer) => {
      const fault = this.fault;
      // The app writes each statement in one piece, so a marker is not split across chunks.
      if (!armed && fault && chunk.includes(fault.marker)) {
        if (fault.skip > 0) fault.skip--;
        else {
          this.fault = null;
          if (fault.when === 'sent') return cut(fault);
          armed = fault;
        }
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
          if (pending[offset + 5] === IDLE) return cut(armed);
          client.write(pending.subarray(relayed, end));
          relayed = end;
        }
        offset = end;
      }
      pending = pending.subarray(relayed);
    });
  }
}
