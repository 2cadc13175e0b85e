import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';

import { deferredBodyReader } from '../common/http/deferred-body.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';

/** The batch route, whose body the app's JSON parser leaves for BatchBodyInterceptor (app.factory). */
export const BATCH_ROUTE = '/api/usage/records/batch';

/**
 * Reads the batch body, up to BATCH_BODY_LIMIT (1,000 events), once the guards have authenticated,
 * authorised and rate-limited its caller: an unauthenticated 2 MB batch is refused without being
 * parsed. Runs before the idempotency interceptor, which fingerprints the body.
 */
@Injectable()
export class BatchBodyInterceptor implements NestInterceptor {
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
