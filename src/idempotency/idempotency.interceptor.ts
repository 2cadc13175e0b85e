import {
  BadRequestException,
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { defer, lastValueFrom, type Observable } from 'rxjs';

import type { AuthUser } from '../auth/roles.js';
import { DomainError } from '../common/errors/domain-error.js';
import { Transactions } from '../database/transactions.js';
import { advisoryLockId, requestFingerprint, storedBody } from './idempotency.fingerprint.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { IDEMPOTENCY_REDACT } from './idempotency-redact.decorator.js';

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
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly tx: Transactions,
    private readonly store: IdempotencyRepository,
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
    const redact =
      this.reflector.getAllAndOverride<string[] | undefined>(IDEMPOTENCY_REDACT, [
        context.getHandler(),
        context.getClass(),
      ]) ?? [];

    return defer(() =>
      this.tx.run(async (manager) => {
        if (!(await this.store.tryLock(manager, advisoryLockId(principal, key)))) {
          throw new DomainError('IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key is still in progress');
        }
        const stored = await this.store.find(manager, principal, key);
        if (stored) {
          if (stored.fingerprint !== fingerprint) {
            throw new DomainError(
              'IDEMPOTENCY_KEY_REUSED',
              'This Idempotency-Key was already used with a different request',
            );
          }
          // The stored response may exist only on this node (a primary restarted after a crash,
          // before it learns that a standby replaced it): answer it once a standby has it too.
          await this.store.awaitDurableOnCommit(manager, principal, key);
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
}
