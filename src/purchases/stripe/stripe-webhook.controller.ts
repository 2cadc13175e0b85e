import { Controller, Headers, HttpCode, Inject, NotFoundException, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import Stripe from 'stripe';

import { Public } from '../../auth/auth.decorator.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
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

@ApiTags('purchases')
@Controller('api/payments/stripe')
export class StripeWebhookController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(StripeWebhookService) private readonly webhook: StripeWebhookService,
  ) {}

  @IdempotentPost('webhook')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    operationId: 'stripeWebhook',
    summary: 'Stripe’s webhook (public, verified by Stripe-Signature)',
    description:
      'Only with `STRIPE_WEBHOOK_SECRET` set (else 404). Checkout Session completed (paid) and ' +
      'async_payment_succeeded mark the purchase paid, async_payment_failed fail it, expired expire it; ' +
      '`charge.refunded` and `charge.dispute.created` / `.closed` are the provider events. An event id seen ' +
      'before changes nothing; other types are ignored (200).',
  })
  @ApiHeader({ name: 'Stripe-Signature', required: true, description: 'Stripe’s signature of the raw body' })
  @ApiOkResponse({ type: StripeWebhookResponseDto })
  @ApiBadRequestResponse({ description: 'Missing, bad or stale signature: nothing written', type: ErrorResponseDto })
  @ApiNotFoundResponse({ description: 'STRIPE_WEBHOOK_SECRET is not set', type: ErrorResponseDto })
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
