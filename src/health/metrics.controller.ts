import { createHash, timingSafeEqual } from 'node:crypto';

import { Controller, Get, Inject, NotFoundException, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Request, Response } from 'express';

import { Public } from '../auth/auth.decorator.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { WebhookDeliveriesRepository } from '../events/webhook-deliveries.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { StreamingSessionsRepository } from '../streaming-sessions/streaming-sessions.repository.js';
import { CredentialAttempts } from '../throttling/credential-attempts.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics for Prometheus, with its own bearer token (METRICS_TOKEN) rather than a user's JWT:
 * a scraper is not a user. Not throttled per principal, and outside the OpenAPI document (it is not
 * JSON API). The token is a guessable secret like an API key (CredentialAttempts): any token from a
 * blocked address is a 429, a wrong one is a 401 and counts. It sits above the modules whose tables
 * the workload gauges count and asks each for its figure, so metrics, which every module imports,
 * reads no other module's table.
 */
@ApiExcludeController()
@Public()
@SkipThrottle()
@Controller('metrics')
export class MetricsController {
  private readonly expected: Buffer | null;

  constructor(
    private readonly metrics: MetricsService,
    private readonly attempts: CredentialAttempts,
    private readonly sessions: StreamingSessionsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.expected = config.metricsToken ? digest(config.metricsToken) : null;
  }

  @Get()
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!this.expected) throw new NotFoundException('Metrics are disabled (METRICS_TOKEN is not set)');
    const authorization = req.headers.authorization;
    if (authorization === undefined) throw new UnauthorizedException('Bearer METRICS_TOKEN required');
    await this.attempts.assertNotBlocked(req, res);
    const presented = /^Bearer (.+)$/i.exec(authorization)?.[1];
    // Compared as digests: equal length, constant time.
    if (!presented || !timingSafeEqual(digest(presented), this.expected)) {
      await this.attempts.failed(req);
      throw new UnauthorizedException('Bearer METRICS_TOKEN required');
    }
    const body = await this.metrics.render({
      activeSessions: () => this.sessions.countActive(),
      webhookPending: () => this.deliveries.countPending(),
    });
    res.setHeader('Content-Type', this.metrics.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(body);
  }
}
