import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { request } from 'undici';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { checkFeed } from './fx-rates.js';
import { FxRatesService } from './fx-rates.service.js';

/** A read of FX_RATES_URL that succeeded is repeated a day later. */
export const FX_RATES_EVERY_MS = 86_400_000;
/** The whole exchange (connect, headers, body) is bounded by this. */
export const FX_RATES_TIMEOUT_MS = 10_000;
/** A body larger than this is refused unread (a day's rates are a few KB). */
const MAX_BODY_BYTES = 1_048_576;
const TIMER = 'fx-rates';

/** What one read of FX_RATES_URL did, and when the next one comes. */
export interface FxRatesRun {
  stored: { date: string; currencies: number } | null;
  /** Why nothing was stored (the fetch failed, or the body was refused whole). */
  error: string | null;
  nextInMs: number;
}

/**
 * Reads FX_RATES_URL (docs/finance.md "The reporting currency") at start-up and every 24 h where the
 * jobs run (JOBS_ENABLED): a GET with a timeout, a JSON `{date, base, rates}` checked whole and
 * stored as a PUT stores it (the day's rates replaced). A read that fails or is refused is logged,
 * stores nothing, and is tried again after FX_RATES_RETRY_SECONDS. Its timer is registered with the
 * scheduler (`fx-rates`) because its delay depends on the outcome; tests call run() themselves.
 */
@Injectable()
export class FxRatesJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Finance');
  /** The scheduled read under way, with the next one's timer set after it (null: none). */
  private ticking: Promise<void> | null = null;

  constructor(
    private readonly rates: FxRatesService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.scheduler || this.config.finance.fxRatesUrl === null) return;
    this.tick();
  }

  onApplicationShutdown(): void {
    if (this.scheduler?.doesExist('timeout', TIMER)) this.scheduler.deleteTimeout(TIMER);
  }

  /** The scheduled read under way finished and the next one's timer set (at once when none runs). */
  whenIdle(): Promise<void> {
    return this.ticking ?? Promise.resolve();
  }

  private tick(): void {
    this.ticking ??= this.run()
      .then((outcome) => this.schedule(outcome.nextInMs))
      .finally(() => (this.ticking = null));
  }

  private schedule(ms: number): void {
    if (!this.scheduler) return;
    if (this.scheduler.doesExist('timeout', TIMER)) this.scheduler.deleteTimeout(TIMER);
    const timer = setTimeout(() => this.tick(), ms);
    timer.unref();
    this.scheduler.addTimeout(TIMER, timer);
  }

  /** One read of FX_RATES_URL: stored whole, or nothing stored and the reason logged. */
  async run(): Promise<FxRatesRun> {
    const url = this.config.finance.fxRatesUrl;
    const retry = this.config.finance.fxRatesRetrySeconds * 1000;
    if (url === null) return { stored: null, error: 'FX_RATES_URL is not set', nextInMs: FX_RATES_EVERY_MS };
    let outcome: FxRatesRun = { stored: null, error: null, nextInMs: retry };
    await this.metrics.runJob('fx-rates', async () => {
      try {
        const checked = checkFeed(await this.fetchJson(url), this.rates.base);
        if ('problems' in checked) throw new Error(`refused: ${checked.problems.join('; ')}`);
        await this.rates.store(checked.day, false);
        const stored = { date: checked.day.date, currencies: Object.keys(checked.day.rates).length };
        this.logger.log({ msg: 'FX rates stored from FX_RATES_URL', ...stored });
        outcome = { stored, error: null, nextInMs: FX_RATES_EVERY_MS };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn({
          msg: 'FX rates not read from FX_RATES_URL; tried again later',
          err: reason,
          retryInMs: retry,
        });
        outcome = { stored: null, error: reason, nextInMs: retry };
        throw error;
      }
    });
    return outcome;
  }

  /** GET `url` as JSON within FX_RATES_TIMEOUT_MS: a 2xx answer of at most 1 MiB, redirects not followed. */
  private async fetchJson(url: string): Promise<unknown> {
    const answer = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'accounting-service-fx-rates/1' },
      signal: AbortSignal.timeout(FX_RATES_TIMEOUT_MS),
      headersTimeout: FX_RATES_TIMEOUT_MS,
      bodyTimeout: FX_RATES_TIMEOUT_MS,
    });
    if (answer.statusCode < 200 || answer.statusCode >= 300) {
      await answer.body.dump();
      throw new Error(`HTTP ${answer.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        answer.body.destroy();
        throw new Error(`the answer is larger than ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new Error('the answer is not JSON');
    }
  }
}
