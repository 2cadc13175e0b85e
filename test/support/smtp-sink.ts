import type { AddressInfo } from 'node:net';

import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message the server accepted, parsed (mailparser), with its envelope. */
export interface ReceivedMail {
  to: string[];
  mail: ParsedMail;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 for the email specs: it accepts every message (or
 * refuses them with 451 while `refusing` is set) and keeps each accepted one parsed.
 */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  /** While true, every message is refused at DATA with a temporary failure. */
  refusing = false;
  refusals = 0;
  private waiters: { count: number; resolve: () => void }[] = [];

  private constructor(private readonly server: SMTPServer) {}

  static async start(): Promise<SmtpSink> {
    let sink: SmtpSink | null = null;
    const server = new SMTPServer({
      // No TLS certificate here: STARTTLS is not offered, and nodemailer then sends in clear.
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (sink!.refusing) {
            sink!.refusals += 1;
            const error = Object.assign(new Error('Try again later'), { responseCode: 451 });
            callback(error);
            return;
          }
          simpleParser(Buffer.concat(chunks))
            .then((mail) => {
              sink!.received.push({ to: session.envelope.rcptTo.map((r) => r.address), mail });
              sink!.notify();
              callback();
            })
            .catch(callback);
        });
      },
    });
    sink = new SmtpSink(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get url(): string {
    const { port } = this.server.server.address() as AddressInfo;
    return `smtp://127.0.0.1:${port}`;
  }

  /** The messages sent to `address`. */
  to(address: string): ParsedMail[] {
    return this.received.filter((r) => r.to.includes(address)).map((r) => r.mail);
  }

  /** Resolves once `count` messages in all have arrived (the worker sends as soon as it is woken). */
  waitForCount(count: number, timeoutMs = 15_000): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.received.length} of ${count} emails`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.received.length < w.count) return true;
      w.resolve();
      return false;
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
