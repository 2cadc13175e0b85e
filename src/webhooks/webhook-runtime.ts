import { Injectable } from '@nestjs/common';

import { type Resolver, systemResolver } from './webhook-url.js';

/** How host names are resolved, at creation and at connection (tests play a rebinding DNS with it). */
@Injectable()
export class WebhookResolver {
  resolve: Resolver = systemResolver;
}
