import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Inject,
  Logger,
  Optional,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';

import { RequestShapeError } from '../http/request-shape.js';
import { connectionProblem } from './connection-errors.js';
import { DatabaseUnavailableError, DomainError, OutcomeUnknownError } from './domain-error.js';
import { REASON_PHRASE as REASON } from './reason-phrases.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** PostgreSQL errors that describe the request's situation rather than a bug. */
const PG_STATUS: Record<string, { status: number; message: string }> = {
  // A NUL character in a text value: PostgreSQL text cannot hold it, so it is bad input.
  '22021': { status: 400, message: 'Text values must not contain NUL characters' },
  '23505': { status: 409, message: 'Conflicts with an existing record' },
  '23P01': { status: 409, message: 'Conflicts with an existing record' },
  '40001': { status: 409, message: 'Concurrent update, please retry' },
  '40P01': { status: 409, message: 'Concurrent update, please retry' },
  '55P03': { status: 503, message: 'Busy, please retry' },
  '57014': { status: 503, message: 'Request took too long, please retry' },
};

function bodyParserMessage(type: unknown): string | undefined {
  if (type === 'entity.too.large') return 'Request body too large';
  if (type === 'entity.parse.failed') return 'Malformed JSON body';
  return undefined;
}

export interface ErrorBody {
  statusCode: number;
  message: string | string[];
  error: string;
  [extra: string]: unknown;
}

/**
 * What counts the answers the filter gives (the metrics module provides it): common code names the
 * need, a feature fills it, so this layer imports no feature.
 */
export interface RefusalCounter {
  insufficientCredits(): void;
}
export const REFUSAL_COUNTER = Symbol('REFUSAL_COUNTER');

/**
 * The one place errors become HTTP answers: Nest's shape `{statusCode, message, error}`, domain
 * codes mapped to statuses, and anything unexpected turned into a bare 500 with the request id
 * (the stack and any SQL go to the log only).
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(@Optional() @Inject(REFUSAL_COUNTER) private readonly refusals?: RefusalCounter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof DomainError && exception.code === 'INSUFFICIENT_CREDITS')
      this.refusals?.insufficientCredits();
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request & { id?: string }>();
    const body = this.toBody(exception, req);
    if (body.statusCode >= 500) {
      body.requestId ??= req.id;
      this.logger.error({
        msg: 'request failed',
        err: exception,
        requestId: req.id,
        method: req.method,
        url: req.originalUrl,
      });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    // A domain error that says when to come back says it in the header too (429 and 503 alike).
    const retryAfter = exception instanceof DomainError ? exception.details.retryAfter : undefined;
    if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown, req: { id?: string; method?: string }): ErrorBody {
    if (exception instanceof DomainError) {
      const status = exception.status;
      return {
        statusCode: status,
        message: exception.message,
        error: REASON[status] ?? 'Error',
        code: exception.code,
        ...exception.details,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Nest wraps body-parser errors (413, malformed JSON) in an HttpException with the original as cause.
      const parserMessage = bodyParserMessage((exception.cause as { type?: unknown } | undefined)?.type);
      if (parserMessage) return { statusCode: status, message: parserMessage, error: REASON[status] ?? 'Error' };
      const response = exception.getResponse();
      const base = typeof response === 'string' ? { message: response } : (response as Record<string, unknown>);
      return {
        ...base,
        statusCode: status,
        message: (base.message as string | string[]) ?? exception.message,
        error: (base.error as string) ?? REASON[status] ?? 'Error',
      };
    }
    // Errors raised before Nest's router (body parser): they carry a status of their own.
    const raw = exception as { status?: number; statusCode?: number; type?: string; message?: string };
    const rawStatus = raw?.status ?? raw?.statusCode;
    if (typeof rawStatus === 'number' && rawStatus >= 400 && rawStatus < 500) {
      const own = exception instanceof RequestShapeError ? exception.message : undefined;
      const message = own ?? bodyParserMessage(raw.type) ?? REASON[rawStatus] ?? 'Bad request';
      return { statusCode: rawStatus, message, error: REASON[rawStatus] ?? 'Error' };
    }
    // TypeORM's, or node-postgres's own from the connections it does not lend (heavy reads).
    const code =
      exception instanceof QueryFailedError
        ? (exception as QueryFailedError & { driverError?: { code?: string } }).driverError?.code
        : exception instanceof pg.DatabaseError
          ? exception.code
          : undefined;
    const mapped = code ? PG_STATUS[code] : undefined;
    if (mapped) return { statusCode: mapped.status, message: mapped.message, error: REASON[mapped.status] };
    const problem = connectionProblem(exception);
    if (problem) {
      // Outside a transaction a mutating statement commits by itself: when its connection broke, it
      // may have taken effect. Reads, and connections never made, changed nothing.
      const unknown = problem === 'lost' && !SAFE_METHODS.has(req.method ?? 'GET');
      return this.toBody(unknown ? new OutcomeUnknownError(exception) : new DatabaseUnavailableError(exception), req);
    }
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      message: 'Internal server error',
      error: REASON[500],
      requestId: req.id,
    };
  }
}
