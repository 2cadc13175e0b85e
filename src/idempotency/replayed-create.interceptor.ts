import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { map, type Observable } from 'rxjs';

import { REPLAYED_HEADER } from './idempotency.interceptor.js';

/**
 * What a create the caller names by an id of its own (a correctionId, a rerateId, a report's
 * contents) did: made `value` now, or found it made by an earlier request (`replayed`: nothing
 * changed).
 */
export interface CreateOutcome<T> {
  value: T;
  replayed: boolean;
}

/**
 * A create found made by an earlier request answers 200 and `Idempotent-Replayed: true`, as a
 * replayed Idempotency-Key answers (the route's own code stays for one made now); an Idempotency-Key's
 * stored answer with the `status` it was first sent with.
 */
export function answerReplayed(res: Response, status = 200): void {
  res.status(status).setHeader(REPLAYED_HEADER, 'true');
}

/**
 * Answers a handler's `CreateOutcome`: the value, answered as a replay (`answerReplayed`) when it
 * was one. It runs inside the idempotency interceptor, which then stores the code this sets.
 */
@Injectable()
export class ReplayedCreateInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler<CreateOutcome<unknown>>): Observable<unknown> {
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map(({ value, replayed }) => {
        if (replayed) answerReplayed(res);
        return value;
      }),
    );
  }
}
