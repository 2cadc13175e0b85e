import {
  BadRequestException,
  type CallHandler,
  type ExecutionContext,
  HttpException,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { catchError, defer, lastValueFrom, type Observable } from 'rxjs';

import type { AuthUser } from '../auth/roles.js';
import { DomainError } from '../common/errors/domain-error.js';
import { Transactions } from '../database/transactions.js';
import { advisoryLockId, requestFingerprint, storedBody } from './idempotency.fingerprint.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { IDEMPOTENCY_REDACT } from './idempotency-redact.decorator.js';
import { handKey, KeyedAnswers, type StatementKey } from './statement-key.js';

/** Set by `@IdempotentPost(path, { keyInStatement: true })`: the route's statement keeps the key. */
export const KEY_IN_STATEMENT = 'idempotency:key-in-statement';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';
const MAX_KEY_LENGTH = 255;

/**
 * `Idempotency-Key` on POST: the first request runs inside one transaction together with the
 * storing of its response, so an effect never commits without its key or a key without its effect.
 *
 * - principal = the authenticated user (`user:<userId>`, the same for its JWT and its API keys);
 *   anonymous POSTs are not covered.
 * - a transaction-scoped advisory lock on (principal, key) taken without waiting: a second request
 *   with the key while the first runs → 409.
 * - a stored key with the same fingerprint (method, path, canonical body) → the stored status and
 *   body are answered with `Idempotent-Replayed: true` and the handler does not run; another
 *   fingerprint → 422. A replay commits like a write (waits for the synchronous standby), so it
 *   never acknowledges a change that a failover could still take back.
 * - the status stored is the one the response carries once the handler is done: Nest sets the
 *   route's own (`@HttpCode`, else 201) before the handler runs, and a handler may change it (200
 *   for a create it finds already done, by its own id), so a retry answers what was answered.
 * - only successful answers are stored: a handler that throws rolls back its effect and the key, so
 *   the same key may be retried (e.g. after a 402, once credits were added).
 * - fields named by `@IdempotencyRedact()` (secrets such as a new API key) are stored as null, so a
 *   replay shows null in their place.
 *
 * The handler's services join the transaction through `Transactions.run` (AsyncLocalStorage): the
 * handler is subscribed inside the transaction callback so the ambient context reaches it.
 *
 * A route whose own statement keeps the key (`keyInStatement`, the record route: src/idempotency/
 * statement-key.ts) runs without that transaction: the interceptor hands it the key, and its statement
 * takes the same lock, finds the same stored answer and stores its own answer with its effect, so the
 * promises above hold unchanged. When its handler fails, a stored answer for this request (a retry
 * whose first request succeeded) is answered instead of the error, as it would have been before the
 * handler ran.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly tx: Transactions,
    private readonly store: IdempotencyRepository,
    private readonly keyed: KeyedAnswers,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { user?: AuthUser }>();
    if (req.method !== 'POST') return next.handle();
    const header = req.headers['idempotency-key'];
    if (header === undefined) return next.handle();
    const key = Array.isArray(header) ? header.join(', ') : header;
    if (key.length < 1 || key.length > MAX_KEY_LENGTH) {
      throw new BadRequestException(`${IDEMPOTENCY_KEY_HEADER} must be 1 to ${MAX_KEY_LENGTH} characters`);
    }
    const user = req.user;
    if (!user?.userId) return next.handle();

    const res = http.getResponse<Response>();
    const principal = `user:${user.userId}`;
    const path = req.originalUrl.split('?')[0];
    const fingerprint = requestFingerprint(req.method, path, { body: req.body ?? null, query: req.query ?? {} });

    if (this.reflector.get<boolean | undefined>(KEY_IN_STATEMENT, context.getHandler())) {
      const statementKey: StatementKey = {
        principal,
        key,
        lock: advisoryLockId(principal, key),
        fingerprint,
        path,
        status: res.statusCode,
      };
      handKey(req, statementKey);
      return next
        .handle()
        .pipe(catchError((error: unknown) => defer(() => this.afterFailure(statementKey, error, res))));
    }

    const redact =
      this.reflector.getAllAndOverride<string[] | undefined>(IDEMPOTENCY_REDACT, [
        context.getHandler(),
        context.getClass(),
      ]) ?? [];
    return defer(() =>
      this.tx.run(async (manager) => {
        const stored = await this.keyed.claim(manager, {
          principal,
          key,
          lock: advisoryLockId(principal, key),
          fingerprint,
        });
        if (stored) {
          res.setHeader(REPLAYED_HEADER, 'true');
          res.status(stored.statusCode);
          return stored.body ?? undefined;
        }
        // Subscribed here, inside the transaction's AsyncLocalStorage context.
        const result = await lastValueFrom(next.handle(), { defaultValue: undefined });
        await this.store.save(manager, {
          principal,
          key,
          fingerprint,
          method: req.method,
          path,
          statusCode: res.statusCode,
          body: storedBody(result, redact),
        });
        return result;
      }),
    );
  }

  /** A keyed statement's handler refused the request: its key's stored answer for this request, else the error. */
  private async afterFailure(key: StatementKey, error: unknown, res: Response): Promise<unknown> {
    // A refusal of the request (4xx) only: a 5xx (the database lost, the outcome unknown) is
    // answered as it is, as a retry with the key tells the outcome.
    if (!refusedRequest(error) || (error instanceof DomainError && error.code.startsWith('IDEMPOTENCY_'))) throw error;
    // A lookup that fails (the database the handler failed on) answers the handler's error.
    const stored = await this.keyed.stored(key).catch((lookup: unknown) => {
      if (lookup instanceof DomainError) throw lookup;
      return null;
    });
    if (!stored) throw error;
    res.setHeader(REPLAYED_HEADER, 'true');
    res.status(stored.status);
    return stored.body ?? undefined;
  }
}

/** An error that refuses the request (a 4xx: its input, its caller, the state it asks to change). */
function refusedRequest(error: unknown): boolean {
  const status = error instanceof DomainError ? error.status : error instanceof HttpException ? error.getStatus() : 500;
  return status >= 400 && status < 500;
}
