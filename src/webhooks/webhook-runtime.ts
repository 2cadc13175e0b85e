import { Injectable } from '@nestjs/common';

import { type Resolver, systemResolver } from './webhook-url.js';

/**
 * The time the webhook code runs on. Injected so tests can move it (the retry schedule over 3 days,
 * the endpoint disabling) without waiting; production reads the system clock.
 */
@Injectable()
export class WebhookClock {
  now(): Date {
    return new Date();
  }
}

/** How host names are resolved, at creation and at connection (tests play a rebinding DNS with it). */
@Injectable()
export class WebhookResolver {
  resolve: Resolver = systemResolver;
}
