import { Inject, Injectable, Logger } from '@nestjs/common';
import { isEmail } from 'class-validator';

import { CLOCK, type Clock } from '../common/clock.js';
import { errorText } from '../common/errors/error-text.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { OutboxWorker } from '../database/outbox/outbox-worker.js';
import { type ClaimedEmail, EMAIL_CHANNEL, EmailNotificationsRepository } from './email-notifications.repository.js';
import { EMAIL_CLAIM_LEASE_MS, nextEmailAttempt } from './email-retry.js';
import { EmailTemplates } from './email-templates.js';
import { Mailer } from './mailer.js';
import { UnsubscribeTokens } from './unsubscribe-token.js';

/** Emails attempted at once by one instance (the SMTP server's connections are pooled by the mailer). */
const EMAILS_IN_FLIGHT = 8;

/** Why an email for a user without an address on file was never sent. */
const NO_ADDRESS = 'the user has no email address';

/** The one-click unsubscribe address of a user and kind (RFC 8058), under PUBLIC_URL. */
export const unsubscribePath = (token: string) => `/api/notifications/unsubscribe/${token}`;

/**
 * Makes and sends the queued emails from every instance through the outbox core ({@link OutboxWorker}):
 * woken by the trigger's NOTIFY at commit, claimed with SKIP LOCKED and a lease; each email is made
 * once from the templates (kept for later attempts) and, after the attempt, its outcome is written
 * only if the claim is still its own: one email per event and recipient across instances and restarts.
 */
@Injectable()
export class EmailWorker extends OutboxWorker<ClaimedEmail> {
  private readonly mailer: Mailer | null;
  private readonly templates = new EmailTemplates();
  readonly tokens: UnsubscribeTokens;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly emails: EmailNotificationsRepository,
    @Inject(CLOCK) clock: Clock,
  ) {
    super({
      url: config.database.url ?? null,
      channel: EMAIL_CHANNEL,
      applicationName: 'accounting-email',
      logger: new Logger('Email'),
      concurrency: EMAILS_IN_FLIGHT,
      pollIntervalMs: config.mail.pollIntervalMs,
      enabled: config.mail.workerEnabled,
      clock,
    });
    this.mailer = config.mail.smtpUrl ? new Mailer(config.mail.smtpUrl) : null;
    this.tokens = new UnsubscribeTokens(config.webhooks.secretKey);
  }

  protected claimDue(now: Date, limit: number): Promise<ClaimedEmail[]> {
    return this.emails.claimDue(now, limit, EMAIL_CLAIM_LEASE_MS);
  }

  protected override onStopped(): void {
    this.mailer?.close();
  }

  private make(claim: ClaimedEmail): { to: string | null; subject: string; text: string; html: string } {
    if (claim.made) return claim.made;
    const rendered = this.templates.render({
      event: claim.event,
      platformName: this.config.mail.platformName,
      unsubscribeUrl: this.unsubscribeUrl(claim),
      recipientName: claim.username ?? claim.userId,
      orgName: claim.orgName,
    });
    // One valid address or none: an address stored before claims were checked may be a list.
    const to = claim.userEmail !== null && isEmail(claim.userEmail) ? claim.userEmail : null;
    return { to, ...rendered };
  }

  private unsubscribeUrl(claim: Pick<ClaimedEmail, 'userId' | 'event'>): string {
    return `${this.config.publicUrl}${unsubscribePath(this.tokens.sign(claim.userId, claim.event.kind))}`;
  }

  /** One attempt of one claimed email; never throws. */
  protected async attempt(claim: ClaimedEmail): Promise<void> {
    try {
      const made = this.make(claim);
      const done = (status: 'sent' | 'suppressed' | 'kept' | 'failed', lastError: string | null = null) =>
        this.emails.recordOutcome(claim, {
          status,
          made,
          sentAt: status === 'sent' ? this.now() : null,
          lastError,
          nextAttemptAt: null,
        });
      if (!claim.wanted) return void (await done('suppressed'));
      // No address is known for the user (the JWT carried no `email`): the email ends now, with the
      // reason, rather than waiting for an address. Without SMTP every email is kept (a developer
      // reads it on the console's Emails page), this one too; with SMTP it fails, as nothing can
      // deliver it and a retry would find the same.
      if (!this.mailer) return void (await done('kept', made.to ? null : NO_ADDRESS));
      if (!made.to) return void (await done('failed', NO_ADDRESS));
      try {
        await this.mailer.send({
          id: claim.id,
          from: this.config.mail.from,
          ...made,
          to: made.to,
          unsubscribeUrl: this.unsubscribeUrl(claim),
        });
      } catch (error) {
        const now = this.now();
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
