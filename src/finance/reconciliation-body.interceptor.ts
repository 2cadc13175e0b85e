import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import express, { type Request, type Response } from 'express';
import type { Observable } from 'rxjs';

/** The most a report may weigh: a month of a busy shop's balance transactions fits. */
export const REPORT_BODY_LIMIT = '20mb';

/**
 * Reads the report (`text/csv`, up to REPORT_BODY_LIMIT; 413 over it) once the guards have let an
 * admin through: a large body is never read for a caller that is refused (app.factory marks the
 * route with deferCsvBody). A JSON body was parsed as any other (the service refuses it).
 */
@Injectable()
export class ReconciliationBodyInterceptor implements NestInterceptor {
  private readonly parse = express.text({ type: 'text/csv', limit: REPORT_BODY_LIMIT });

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    await new Promise<void>((resolve, reject) =>
      this.parse(req, http.getResponse<Response>(), (error?: unknown) => (error ? reject(error) : resolve())),
    );
    return next.handle();
  }
}
