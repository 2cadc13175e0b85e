import nodemailer, { type Transporter } from 'nodemailer';

/** One message as the worker sends it: the parts were made once and are the same on every attempt. */
export interface OutgoingEmail {
  /** The email's id: its Message-ID, so a receiver can tell a repeat (a crash after acceptance). */
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  unsubscribeUrl: string;
}

/** Every SMTP wait is bounded well inside the worker's claim lease, so no other instance takes it meanwhile. */
export const SMTP_TIMEOUT_MS = 30_000;

/**
 * Sends through nodemailer over SMTP_URL: `smtp://` upgrades with STARTTLS when the server offers it,
 * `smtps://` is TLS from the start; credentials ride in the URL. A pooled transport, so consecutive
 * emails share a connection.
 */
export class Mailer {
  private readonly transport: Transporter;

  constructor(smtpUrl: string) {
    const url = new URL(smtpUrl);
    this.transport = nodemailer.createTransport({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
      secure: url.protocol === 'smtps:',
      auth: url.username
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : undefined,
      pool: true,
      maxConnections: 4,
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS,
    });
  }

  async send(email: OutgoingEmail): Promise<void> {
    const domain = /@([^>\s]+)>?\s*$/.exec(email.from)?.[1] ?? 'localhost';
    await this.transport.sendMail({
      from: email.from,
      to: email.to,
      subject: email.subject,
      text: email.text,
      html: email.html,
      messageId: `<${email.id}@${domain}>`,
      headers: {
        'List-Unsubscribe': `<${email.unsubscribeUrl}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
  }

  close(): void {
    this.transport.close();
  }
}
