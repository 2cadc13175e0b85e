import { createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { EntityManager } from 'typeorm';

import { DomainError } from '../common/errors/domain-error.js';
import { Transactions } from '../database/transactions.js';
import { IdempotencyRepository, type StoredResponse } from './idempotency.repository.js';

/**
 * An `Idempotency-Key` its route's own statement keeps (`@IdempotentPost(path, { keyInStatement: true })`,
 * the record route): the statement that writes the record claims the key and stores its answer, in
 * the same commit, instead of a transaction around the handler.
 */
export interface StatementKey {
  /** Whose key: `user:<userId>`. */
  principal: string;
  key: string;
  /** The key's transaction-scoped advisory lock id (a signed 64-bit integer as a decimal string). */
  lock: string;
  /** The request's fingerprint (method, path, canonical body). */
  fingerprint: string;
  path: string;
  /** The status a created answer is sent with (the route's own). */
  status: number;
}

/** A stored answer to send again, with `Idempotent-Replayed: true`. */
export interface KeyAnswer {
  status: number;
  body: unknown;
}

/**
 * The part of a route's statement that stores its keys' answers: an INSERT of `source`'s rows, each
 * a key as handed (`idem`, jsonb: a StatementKey) and the answer sent (`answer`, jsonb), created (the
 * key's `status`). It runs with the effect, in the same commit, under the key's lock its statement took.
 */
export const storedAnswers = (source: string): string =>
  `INSERT INTO idempotency_keys (principal, key, fingerprint, method, path, status_code, response_body)
   SELECT a.idem ->> 'principal', a.idem ->> 'key', a.idem ->> 'fingerprint', 'POST', left(a.idem ->> 'path', 500),
          (a.idem ->> 'status')::smallint, a.answer
     FROM (${source}) a
   RETURNING 1`;

const STATEMENT_KEY = Symbol('statement key');

/** Hands a request's key to the route's statement (the interceptor, before the handler runs). */
export function handKey(req: Request, key: StatementKey): void {
  (req as Request & { [STATEMENT_KEY]?: StatementKey })[STATEMENT_KEY] = key;
}

/** The route's key for its statement, or undefined (no key, or an anonymous caller). */
export const KeyForStatement = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): StatementKey | undefined =>
    ctx.switchToHttp().getRequest<Request & { [STATEMENT_KEY]?: StatementKey }>()[STATEMENT_KEY],
);

export const keyInFlight = () =>
  new DomainError('IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key is still in progress');
export const keyReused = () =>
  new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request');

/** What the promises of a key decide, for the interceptor's transaction and for a route's statement. */
@Injectable()
export class KeyedAnswers {
  constructor(
    private readonly tx: Transactions,
    private readonly store: IdempotencyRepository,
  ) {}

  /**
   * In `manager`'s transaction: the key's lock, taken without waiting (another request with the key
   * is running: 409), then its answer stored for this request, or null when none is (one for another
   * request: 422). A stored answer is answered once a standby has it too (awaitDurableOnCommit).
   */
  async claim(manager: EntityManager, key: Pick<StatementKey, 'principal' | 'key' | 'lock' | 'fingerprint'>) {
    if (!(await this.store.tryLock(manager, key.lock))) throw keyInFlight();
    return this.storedIn(manager, key);
  }

  /**
   * The answer stored for a key whose statement found it answered, or for a request that failed
   * (a retry whose handler now refuses answers what its key's first request was answered): null when
   * none is stored, 422 when it is another request's.
   */
  stored(key: StatementKey): Promise<KeyAnswer | null> {
    return this.tx.run(async (manager) => answerOf(await this.storedIn(manager, key)));
  }

  /**
   * Stores an answer the route's statement could not (a record whose eventId had been used: the first
   * record, 200), as the interceptor would: under the key's lock, unless an answer is stored already,
   * which is answered instead.
   */
  save(key: StatementKey, status: number, body: unknown): Promise<KeyAnswer | null> {
    return this.tx.run(async (manager) => {
      const stored = await this.claim(manager, key);
      if (stored) return answerOf(stored);
      await this.store.save(manager, { ...key, method: 'POST', statusCode: status, body });
      return null;
    });
  }

  private async storedIn(manager: EntityManager, key: Pick<StatementKey, 'principal' | 'key' | 'fingerprint'>) {
    const stored = await this.store.find(manager, key.principal, key.key);
    if (!stored) return null;
    if (stored.fingerprint !== key.fingerprint) throw keyReused();
    await this.store.awaitDurableOnCommit(manager, key.principal, key.key);
    return stored;
  }
}

const answerOf = (stored: StoredResponse | null): KeyAnswer | null =>
  stored && { status: stored.statusCode, body: stored.body };
