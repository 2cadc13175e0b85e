import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { deferredBodyReader } from './deferred-body.js';

/**
 * Reads a deferred body (deferred-body.ts), up to BATCH_BODY_LIMIT, once the guards have
 * authenticated, authorised and rate-limited its caller: a large body (a 1,000-event batch, a
 * 500-rule price sheet) is never parsed for a caller that is refused. Bound by a route's
 * `@IdempotentPost(…, { readsBody: DeferredBodyInterceptor })`, so it runs before the idempotency
 * interceptor, which fingerprints the body; app.factory marks the route's path with `deferBody`.
 */
@Injectable()
export class DeferredBodyInterceptor implements NestInterceptor {
  private readonly read: (req: Request, res: Response) => Promise<void>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.read = deferredBodyReader(config.batchBodyLimit);
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    await this.read(http.getRequest<Request>(), http.getResponse<Response>());
    return next.handle();
  }
}
