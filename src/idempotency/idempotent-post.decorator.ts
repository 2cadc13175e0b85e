// The one place that may use Nest's Post: every other POST route is declared through IdempotentPost.
// eslint-disable-next-line no-restricted-imports
import { applyDecorators, type NestInterceptor, Post, SetMetadata, type Type, UseInterceptors } from '@nestjs/common';

import { IdempotencyInterceptor, KEY_IN_STATEMENT } from './idempotency.interceptor.js';
import { ReplayedCreateInterceptor } from './replayed-create.interceptor.js';

export interface IdempotentPostOptions {
  /**
   * For a route whose body is read after authentication (src/common/http/deferred-body.ts): the
   * interceptor that reads it, run before the idempotency interceptor fingerprints the body.
   */
  readsBody?: Type<NestInterceptor>;
  /**
   * For a create the caller names by an id of its own: the handler answers a `CreateOutcome`, and a
   * replay of it 200 (src/idempotency/replayed-create.interceptor.ts).
   */
  replays?: true;
  /**
   * For a route whose own statement keeps its Idempotency-Key (src/idempotency/statement-key.ts): no
   * transaction around the handler, which takes the key with `@KeyForStatement()`.
   */
  keyInStatement?: true;
}

/**
 * A POST route that honours `Idempotency-Key` (src/idempotency/idempotency.interceptor.ts). The
 * interceptor is bound to POST handlers only, not globally: a route with any interceptor runs its
 * handler through an RxJS pipeline that cost a GET like the balance about 8 % of its Node CPU, for a
 * header only POST reads. ESLint refuses Nest's own `Post` elsewhere, so no POST route goes without it.
 */
export const IdempotentPost = (path?: string | string[], options: IdempotentPostOptions = {}): MethodDecorator =>
  applyDecorators(
    Post(path),
    ...(options.keyInStatement ? [SetMetadata(KEY_IN_STATEMENT, true)] : []),
    UseInterceptors(
      ...(options.readsBody ? [options.readsBody] : []),
      IdempotencyInterceptor,
      ...(options.replays ? [ReplayedCreateInterceptor] : []),
    ),
  );
