import type { Logger } from '@nestjs/common';
import pg from 'pg';

import { errorText } from '../../common/errors/error-text.js';

/** How soon a lost LISTEN connection is opened again. */
const LISTEN_RETRY_MS = 2000;
/** How long one attempt to open the LISTEN connection may take. */
const CONNECT_TIMEOUT_MS = 5000;

export interface ChannelListenerOptions {
  /** The database to listen on (the primary: NOTIFY is sent where the write commits). */
  url: string | null;
  channel: string;
  /** `application_name` of the connection, as pg_stat_activity shows it. */
  applicationName: string;
  logger: Logger;
  onNotification(payload: string | undefined): void;
  /** Listening (again): whatever was sent while not listening was missed. */
  onListening(): void;
  /** Not listening any more, until the next onListening. */
  onLost?(): void;
  retryMs?: number;
}

/**
 * A dedicated connection that LISTENs on one channel and opens itself again when it is lost. What a
 * listener caches or sleeps on must assume notifications were missed while `listening` is false, and
 * when `onListening` says it is back.
 */
export class ChannelListener {
  private client: pg.Client | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private running = false;
  private connected = false;

  constructor(private readonly options: ChannelListenerOptions) {}

  get listening(): boolean {
    return this.connected;
  }

  /** Starts listening; resolves once the first attempt has connected or failed (retries go on). */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    return this.listen();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    this.lost();
    await client?.end().catch(() => undefined);
  }

  private lost(): void {
    if (!this.connected) return;
    this.connected = false;
    this.options.onLost?.();
  }

  private async listen(): Promise<void> {
    const { url, channel, applicationName, logger } = this.options;
    if (!this.running || !url) return;
    // Bounded: start() is awaited at bootstrap, which must not hang on an unreachable database.
    const client = new pg.Client({
      connectionString: url,
      application_name: applicationName,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    const retry = () => {
      if (this.client === client) this.client = null;
      this.lost();
      client.end().catch(() => undefined);
      if (this.running && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.listen();
        }, this.options.retryMs ?? LISTEN_RETRY_MS);
        this.retryTimer.unref();
      }
    };
    client.on('notification', (message) => {
      if (message.channel === channel) this.options.onNotification(message.payload);
    });
    client.on('error', (error) => {
      logger.warn({ msg: `listener on ${channel} lost its connection; opening it again`, err: errorText(error) });
      retry();
    });
    client.on('end', () => {
      if (this.client === client) retry();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
      if (!this.running) {
        await client.end();
        return;
      }
      this.client = client;
      this.connected = true;
      this.options.onListening();
    } catch (error) {
      logger.warn({ msg: `listener on ${channel} could not connect`, err: errorText(error) });
      retry();
    }
  }
}
