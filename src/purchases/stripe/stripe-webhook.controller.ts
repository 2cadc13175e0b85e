import { Controller, Headers, HttpCode, Inject, NotFoundException, Req } from '@nestjs/common';
import { ApiExcludeController, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Request } from 'express';
import Stripe from 'stripe';

import { Public } from '../../auth/auth.decorator.js';
import { DomainError } from '../../common/errors/domain-error.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import { rawBodyOf } from './raw-body.js';
import type { StripeEventLike } from './stripe-events.js';
import { type StripeOutcome, StripeWebhookService } from './stripe-webhook.service.js';

export class StripeWebhookResponseDto {
  @ApiProperty({ example: true })
  received: boolean;

  @ApiProperty({ enum: ['applied', 'duplicate', 'ignored'], example: 'applied' })
  outcome: StripeOutcome;

  @ApiPropertyOptional({ example: 'event type customer.created is not used' })
  reason?: string;
}

/**
 * Stripe's callback, not a route API clients call: like /metrics it stays out of the OpenAPI document
 * (and so out of the generated clients). What it accepts is Stripe's event format; docs/purchases.md
 * ("Stripe") describes it.
 */
@ApiExcludeController()
@Controller('api/payments/stripe')
export class StripeWebhookController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(StripeWebhookService) private readonly webhook: StripeWebhookService,
  ) {}

  @IdempotentPost('webhook')
  @HttpCode(200)
  @Public()
  // Stripe sends no credential of ours and delivers from a few addresses: counted as anonymous
  // traffic, a busy shop's payments would be refused with 429 (and a neighbour's flood could block
  // them). Its signature is checked first, with an HMAC, before anything else is read.
  @SkipThrottle()
  async receive(
    @Req() req: Request,
    @Headers('stripe-signature') signature: string | undefined,
  ): Promise<StripeWebhookResponseDto> {
    const secret = this.config.stripeWebhookSecret;
    if (!secret) throw new NotFoundException(`Cannot POST ${req.originalUrl}`);
    const raw = rawBodyOf(req);
    let event: StripeEventLike;
    try {
      if (!raw || !signature) throw new Error('missing');
      // Stripe's own verification: HMAC-SHA256 of `t.body`, constant-time, 300 s tolerance.
      event = Stripe.webhooks.constructEvent(raw, signature, secret) as unknown as StripeEventLike;
    } catch {
      throw new DomainError('VALIDATION', 'Stripe-Signature does not verify this body (or is too old)');
    }
    if (typeof event.id !== 'string' || event.id.length > 255 || typeof event.type !== 'string') {
      throw new DomainError('VALIDATION', 'Not a Stripe event');
    }
    return { received: true, ...(await this.webhook.handle(event)) };
  }
}
