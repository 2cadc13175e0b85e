import { type Client, createClient } from '../api/generated/client';
import { type BalanceView, loadBalance, loadDailyUsage, loadSession, type PortalSession } from './account';
import { CHART, dailyChart } from './chart';
import { credits, date } from './format';

/**
 * `/portal/embed.js`: `<credits-balance>` and `<credits-usage-chart>` for the platform's own pages
 * (their origin listed in PORTAL_ALLOWED_ORIGINS). Attributes: `token` (a portal session's token) and
 * `base-url` (the service; default: where this module came from). They read through the same
 * generated client and the same account rules as the portal page.
 */
const CSS = `
:host { display: block; font: inherit; color: inherit; }
.box { border: 1px solid #8c959f; border-radius: 8px; padding: 12px; }
.label, .sub { font-size: 0.9em; opacity: 0.85; }
.value { display: block; font-size: 1.6em; font-weight: 600; font-variant-numeric: tabular-nums; }
svg { width: 100%; height: 160px; display: block; }
.bar { fill: #0a58ca; } .peak { fill: #b35900; } .axis { stroke: #8c959f; }
.ticks { display: flex; justify-content: space-between; font-size: 0.8em; opacity: 0.85; }
figure { margin: 0; } figcaption { margin-bottom: 8px; }
@media (prefers-color-scheme: dark) { .bar { fill: #6cb6ff; } .peak { fill: #ffb65c; } }
`;

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string>, text?: string) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

abstract class CreditsElement extends HTMLElement {
  static observedAttributes = ['token', 'base-url'];
  private readonly root: ShadowRoot;
  private run = 0;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    this.root.adoptedStyleSheets = [sheet];
  }

  connectedCallback(): void {
    void this.refresh();
  }

  attributeChangedCallback(): void {
    if (this.isConnected) void this.refresh();
  }

  protected abstract draw(session: PortalSession, client: Client): Promise<Node>;

  private async refresh(): Promise<void> {
    const run = ++this.run;
    const token = this.getAttribute('token');
    if (!token) return this.show(el('p', {}, 'No portal token given.'));
    const base = (this.getAttribute('base-url') ?? new URL(import.meta.url).origin).replace(/\/+$/, '');
    // Only as the bearer: operations that also take X-API-Key must not get the token there.
    const client = createClient({ baseUrl: base, auth: (auth) => (auth.scheme === 'bearer' ? token : undefined) });
    let node: Node;
    try {
      node = await this.draw(await loadSession(client), client);
    } catch (error) {
      const ended = (error as { statusCode?: number } | null)?.statusCode === 401;
      node = el('p', { role: 'status' }, ended ? 'This session has ended or expired.' : 'Credits could not be loaded.');
    }
    if (run === this.run) this.show(node);
  }

  private show(node: Node): void {
    this.root.replaceChildren(node);
  }
}

function balanceBox(b: BalanceView): HTMLElement {
  const box = el('div', { class: 'box', role: 'group', 'aria-label': 'Credits balance', part: 'box' });
  box.append(el('span', { class: 'label' }, 'Available credits'));
  box.append(el('strong', { class: 'value', 'data-figure': 'available' }, credits(b.available)));
  box.append(
    el('span', { class: 'sub', 'data-figure': 'held-debt' }, `Held ${credits(b.held)} · debt ${credits(b.debt)}`),
  );
  const soonest = b.lots?.[0];
  if (soonest) {
    box.append(el('br', {}));
    box.append(
      el(
        'span',
        { class: 'sub', 'data-figure': 'soonest' },
        `${credits(soonest.credits)} expire on ${date(soonest.expiresAt)}`,
      ),
    );
  }
  return box;
}

class CreditsBalance extends CreditsElement {
  protected async draw(session: PortalSession, client: Client): Promise<Node> {
    return balanceBox(await loadBalance(session, client));
  }
}

class CreditsUsageChart extends CreditsElement {
  protected async draw(session: PortalSession, client: Client): Promise<Node> {
    const byDay = await loadDailyUsage(session, client);
    if (byDay === null) return el('p', {}, 'Usage is shown to the organisation’s owners, admins and billing members.');
    const model = dailyChart(byDay);
    const figure = el('figure', { class: 'box', part: 'box' });
    const id = `credits-usage-${Math.random().toString(36).slice(2)}`;
    figure.append(el('figcaption', { id, 'data-figure': 'summary' }, `${model.summary}.`));
    const chart = svg('svg', {
      viewBox: `0 0 ${CHART.width} ${CHART.height}`,
      role: 'img',
      'aria-labelledby': id,
      preserveAspectRatio: 'none',
    });
    const baseline = CHART.height - CHART.bottom;
    chart.append(
      svg('line', { class: 'axis', x1: CHART.left, x2: CHART.width - CHART.right, y1: baseline, y2: baseline }),
    );
    for (const bar of model.bars) {
      const rect = svg('rect', {
        class: bar === model.peak ? 'bar peak' : 'bar',
        x: bar.x,
        y: bar.y,
        width: bar.width,
        height: bar.height,
      });
      rect.append(svg('title', {}, `${bar.day}: ${credits(bar.credits)} credits`));
      chart.append(rect);
    }
    figure.append(chart);
    const ticks = el('div', { class: 'ticks', 'aria-hidden': 'true' });
    for (const tick of model.ticks) ticks.append(el('span', {}, tick.label));
    figure.append(ticks);
    return figure;
  }
}

if (!customElements.get('credits-balance')) customElements.define('credits-balance', CreditsBalance);
if (!customElements.get('credits-usage-chart')) customElements.define('credits-usage-chart', CreditsUsageChart);
