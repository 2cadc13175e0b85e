import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import Handlebars from 'handlebars';

import type { EventPayloads } from '../events/event-types.js';
import { EMAIL_KINDS, type EmailKind } from './email-kinds.js';

/** The template files: `<kind>.subject.hbs`, `<kind>.text.hbs`, `<kind>.html.hbs`, and the two layouts. */
export const TEMPLATE_DIR = fileURLToPath(new URL('./templates/', import.meta.url));

/** An email's kind with its event's data, typed as the event declares it (events/event-types.ts). */
export type EmailEvent = { [K in EmailKind]: { kind: K; data: EventPayloads[K] } }[EmailKind];

/** What one email is made from: the event and who it goes to. */
export interface EmailInput {
  event: EmailEvent;
  platformName: string;
  unsubscribeUrl: string;
  /** The recipient's username, else their user id. */
  recipientName: string;
  /** The organisation's name when the event is about an organisation's account (or a member's limit in it). */
  orgName: string | null;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** `2026-12-01 12:00 UTC`: exact, unambiguous, the same for every reader. */
export function formatUtc(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(date.getTime())) return null;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A lead time in whole days when it is one (168 → "7 days"), else in hours. */
export function formatLead(hours: unknown): string {
  const h = Number(hours);
  if (!Number.isInteger(h) || h <= 0) return '';
  if (h % 24 === 0) return h === 24 ? '1 day' : `${h / 24} days`;
  return h === 1 ? '1 hour' : `${h} hours`;
}

/** The event's figures, as the templates show them (integers as integers, amounts as the API's strings). */
function figuresOf(input: EmailEvent): Record<string, unknown> {
  const figures: Record<string, unknown> = { ...input.data };
  if ('expiresAt' in input.data) figures.expiresAt = formatUtc(input.data.expiresAt);
  if (input.kind === 'credits.expiring') figures.lead = formatLead(input.data.leadHours);
  if (input.kind === 'purchase.refunded') figures.adminRefund = input.data.origin === 'admin';
  if (input.kind === 'credits.runway') {
    figures.runsOutAt = formatUtc(input.data.runsOutAt);
    figures.runsOutOn = figures.runsOutAt === null ? '' : String(figures.runsOutAt).slice(0, 10);
    figures.within = formatLead(input.data.days * 24);
  }
  if (input.kind === 'budget.reached') {
    figures.scopeKind = input.data.scope?.kind;
    figures.scopeId = input.data.scope?.id;
    figures.resets = input.data.period !== 'lifetime';
  }
  if (input.kind === 'feature.limit_reached') {
    figures.resets = input.data.period !== 'lifetime';
    figures.periodWord = input.data.period;
  }
  return figures;
}

/**
 * A value as the text part and the subject may show it: control and format characters (CR, LF, tab,
 * bidirectional overrides, line separators) become one space, so a name cannot start a line, fake a
 * header or reorder what is read around it. Strings at any depth; other values as they are.
 */
export function plainText(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ');
  if (Array.isArray(value)) return value.map(plainText);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainText(v)]));
  }
  return value;
}

/**
 * Makes emails from the template files with Handlebars: the HTML part escapes every value (HTML
 * escaping), the text part and the subject take them with control characters replaced (`plainText`).
 * The same data fills all three.
 */
export class EmailTemplates {
  private readonly htmlEngine = Handlebars.create();
  private readonly textEngine = Handlebars.create();
  private readonly compiled = new Map<string, Handlebars.TemplateDelegate>();

  constructor(dir: string = TEMPLATE_DIR) {
    const read = (name: string) => readFileSync(`${dir}${name}`, 'utf8');
    this.htmlEngine.registerPartial('layoutHtml', read('layout.html.hbs'));
    this.textEngine.registerPartial('layoutText', read('layout.text.hbs'));
    // Read and compiled at start: a missing or broken template stops start-up, not an email.
    for (const kind of EMAIL_KINDS) {
      this.compiled.set(`${kind}.html`, this.htmlEngine.compile(read(`${kind}.html.hbs`)));
      this.compiled.set(`${kind}.text`, this.textEngine.compile(read(`${kind}.text.hbs`), { noEscape: true }));
      this.compiled.set(`${kind}.subject`, this.textEngine.compile(read(`${kind}.subject.hbs`), { noEscape: true }));
    }
  }

  render(input: EmailInput): RenderedEmail {
    const { event } = input;
    const isOrg = input.orgName !== null && event.kind !== 'org.member_limit_reached';
    const context = plainText({
      platformName: input.platformName,
      unsubscribeUrl: input.unsubscribeUrl,
      recipientName: input.recipientName,
      orgName: input.orgName ?? event.data.orgId ?? '',
      accountLabel: isOrg ? `${input.orgName}'s` : 'your',
      accountPhrase: isOrg ? `the account of ${input.orgName}` : 'your account',
      figures: figuresOf(event),
    }) as Record<string, unknown>;
    const template = (part: string) => this.compiled.get(`${event.kind}.${part}`)!;
    const subject = template('subject')(context).replace(/\s+/g, ' ').trim();
    const text = template('text')({ ...context, subject });
    const html = template('html')({ ...context, subject });
    return { subject, text: text.replace(/\n{3,}/g, '\n\n').trim() + '\n', html };
  }
}
