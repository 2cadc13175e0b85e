import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { isEmail } from 'class-validator';

import { CLOCK, type Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ChannelListener } from '../database/channel-listener.js';
import { type ClaimedEmail, EMAIL_CHANNEL, EmailNotificationsRepository } from './email-notifications.repository.js';
import { EMAIL_CLAIM_LEASE_MS, nextEmailAttempt } from './email-retry.js';
import { EmailTemplates } from './email-templates.js';
import { Mailer } from './mailer.js';
import { UnsubscribeTokens } from './unsubscribe-token.js';

const BATCH = 8;
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The one-click unsubscribe address of a user and kind (RFC 8058), under PUBLIC_URL. */
export const unsubscribePath = (token: string) => `/api/notifications/unsubscribe/${token}`;

/**
 * Makes and sends the queued emails from every instance, never inside a request: woken by the
 * trigger's NOTIFY at commit, and by a poll (a lost notification, a retry coming due). Each pass
 * claims due emails with SKIP LOCKED and a lease, makes each once from the templates (kept for later
 * attempts), then, after the attempt, writes the outcome only if the claim is still its own: one email
 * per event and recipient across instances and restarts.
 */
@Injectable()
export class EmailWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Email');
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private woken = false;
  private readonly listener: ChannelListener;
  private readonly mailer: Mailer | null;
  private readonly templates = new EmailTemplates();
  readonly tokens: UnsubscribeTokens;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly emails: EmailNotificationsRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.mailer = config.mail.smtpUrl ? new Mailer(config.mail.smtpUrl) : null;
    this.tokens = new UnsubscribeTokens(config.webhooks.secretKey);
    this.listener = new ChannelListener({
      url: config.database.url ?? null,
      channel: EMAIL_CHANNEL,
      applicationName: 'accounting-email',
      logger: this.logger,
      onNotification: () => this.notify(),
      onListening: () => this.notify(),
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.mail.workerEnabled) this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.listener.start();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
    await this.listener.stop();
    this.mailer?.close();
  }

  /** One complete pass for tests and tools: every email due now (on the injected clock). Returns how many. */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.emails.claimDue(new Date(this.clock.now()), BATCH, EMAIL_CLAIM_LEASE_MS);
      await Promise.all(claimed.map((c) => this.attempt(c)));
      total += claimed.length;
      if (claimed.length < BATCH) return total;
    }
  }

  private notify(): void {
    this.woken = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        this.woken = false;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        this.woken = false;
        const sent = await this.runDue();
        if (sent === 0) await this.sleep(this.config.mail.pollIntervalMs);
      } catch (error) {
        this.logger.warn({ msg: 'email pass failed', err: errorText(error) });
        await this.sleep(this.config.mail.pollIntervalMs);
      }
    }
  }

  private make(claim: ClaimedEmail): { to: string | null; subject: string; text: string; html: string } {
    if (claim.made) return claim.made;
    const rendered = this.templates.render({
      kind: claim.kind,
      data: claim.data,
      platformName: this.config.mail.platformName,
      unsubscribeUrl: this.unsubscribeUrl(claim),
      recipientName: claim.username ?? claim.userId,
      orgName: claim.orgName,
      allocationExpiresAt: claim.allocationExpiresAt,
    });
    // One valid address or none: an address stored before claims were checked may be a list.
    const to = claim.userEmail !== null && isEmail(claim.userEmail) ? claim.userEmail : null;
    return { to, ...rendered };
  }

  private unsubscribeUrl(claim: Pick<ClaimedEmail, 'userId' | 'kind'>): string {
    return `${this.config.publicUrl}${unsubscribePath(this.tokens.sign(claim.userId, claim.kind))}`;
  }

  /** One attempt of one claimed email; never throws. */
  private async attempt(claim: ClaimedEmail): Promise<void> {
    try {
      const made = this.make(claim);
      const done = (status: 'sent' | 'suppressed' | 'kept' | 'failed', lastError: string | null = null) =>
        this.emails.recordOutcome(claim, {
          status,
          made,
          sentAt: status === 'sent' ? new Date(this.clock.now()) : null,
          lastError,
          nextAttemptAt: null,
        });
      if (!claim.wanted) return void (await done('suppressed'));
      // No address is known for the user (the JWT carried no `email`): nothing to retry.
      if (!made.to) return void (await done('failed', 'the user has no email address'));
      if (!this.mailer) return void (await done('kept'));
      try {
        await this.mailer.send({
          id: claim.id,
          from: this.config.mail.from,
          ...made,
          to: made.to,
          unsubscribeUrl: this.unsubscribeUrl(claim),
        });
      } catch (error) {
        const now = new Date(this.clock.now());
        const next = nextEmailAttempt(now, claim.createdAt, claim.attempts);
        await this.emails.recordOutcome(claim, {
          status: next ? 'pending' : 'failed',
          made,
          sentAt: null,
          lastError: errorText(error),
          nextAttemptAt: next,
        });
        return;
      }
      await done('sent');
    } catch (error) {
      // The outcome could not be written: the lease ends and the email is attempted again.
      this.logger.warn({ msg: 'email outcome not recorded', emailId: claim.id, err: errorText(error) });
    }
  }
}
