import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';

import { deferredBodyReader } from '../common/http/deferred-body.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';

/** The price sheet route, whose body the app's JSON parser leaves for PriceSheetBodyInterceptor (app.factory). */
export const PRICE_SHEET_ROUTE = '/api/pricing/import';

/**
 * Reads a price sheet's body, up to BATCH_BODY_LIMIT, once the guards have let its (admin) caller
 * through: a sheet may hold 500 rules (CONTRACT "Token kinds"), about 200 KB with every price of every
 * kind, beyond BODY_LIMIT (issue 36: a 500-rule sheet was refused with 413). Runs before the
 * idempotency interceptor, which fingerprints the body.
 */
@Injectable()
export class PriceSheetBodyInterceptor implements NestInterceptor {
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
