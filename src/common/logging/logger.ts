import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

import type { LoggerService } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { type DestinationStream, type Logger as Pino, pino } from 'pino';
import pretty from 'pino-pretty';

import type { LogFormat, LogLevel } from '../../config/app-config.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * What a person reads at a terminal (LOG_FORMAT=pretty, the default in development): one line per
 * entry, `HH:MM:ss LEVEL [context] message`, extra fields on the same line. Written synchronously, so
 * nothing is lost when the process exits right after a line (a failed start, the end of a shutdown).
 */
function prettyStream(): DestinationStream {
  return pretty({
    sync: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,service,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
    singleLine: true,
    // `err` is logged as a message string mostly: on the line, not as a block of its own.
    errorLikeObjectKeys: [],
    colorize: process.stdout.isTTY === true && !process.env.NO_COLOR,
  });
}

/**
 * The root logger: JSON lines to `destination` (default stdout), or, with `format` pretty and no
 * destination given, readable text.
 */
export function createRootLogger(level: LogLevel, destination?: DestinationStream, format: LogFormat = 'json'): Pino {
  return pino(
    {
      level,
      base: { service: 'accounting-service' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Credentials never reach the log, whatever logs a request.
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-api-key"]',
          'req.headers["x-internal-api-key"]',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? (format === 'pretty' ? prettyStream() : undefined),
  );
}

/**
 * Nest's own start-up chatter (one line per module and per route: 120 lines) is for debugging a
 * start, not for every start: the service says where it listens in three lines of its own (main.ts).
 */
const START_UP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/**
 * What a request's log lines carry (`req: {id, method, url}`). The child logger is only built when
 * something is actually logged for the request: most requests write no line at all (the access line
 * of a success is `debug`).
 */
class RequestContext {
  private child?: Pino;
  /**
   * Set once the response has been sent. Sockets, pool clients and timers created while serving a
   * request keep its async context for as long as they live, so a line they write later (the pool's
   * "database connection lost") would otherwise carry a request that finished long ago.
   */
  finished = false;

  constructor(
    private readonly root: Pino,
    readonly req: Request,
    readonly id: string,
    readonly method: string,
    readonly url: string,
  ) {}

  get log(): Pino {
    return (this.child ??= this.root.child({ req: { id: this.id, method: this.method, url: this.url } }));
  }
}

const requestContext = new AsyncLocalStorage<RequestContext>();

/** The access line's level: `error` for 5xx (or a failed response), `info` for 4xx, `debug` otherwise. */
function accessLevel(statusCode: number, err: unknown): 'error' | 'info' | 'debug' {
  return err || statusCode >= 500 ? 'error' : statusCode >= 400 ? 'info' : 'debug';
}

/**
 * Express middleware: a request id (the caller's X-Request-Id when sane, else a UUID), echoed back,
 * one access log line per request, and a per-request context that every Nest log line written
 * while serving the request goes through (so every line carries `req.id`).
 *
 * The access line has pino-http's shape (`{req, res: {statusCode}, responseTime, msg}`, plus `err`
 * and "request errored" on failures); nothing is built for it when its level is not enabled.
 */
export function requestLogging(root: Pino) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    (req as Request & { id: string }).id = id;
    res.setHeader('X-Request-Id', id);
    const context = new RequestContext(root, req, id, req.method, req.originalUrl || req.url);
    const start = Date.now();
    let done = false;
    const onComplete = (err?: unknown) => {
      if (done) return;
      done = true;
      const failure = err || (res as Response & { err?: unknown }).err;
      const level = accessLevel(res.statusCode, failure);
      if (!root.isLevelEnabled(level)) return;
      const responseTime = Date.now() - start;
      if (failure || res.statusCode >= 500) {
        const error = failure || new Error(`failed with status code ${res.statusCode}`);
        context.log[level]({ res: { statusCode: res.statusCode }, err: error, responseTime }, 'request errored');
      } else {
        const msg = !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted';
        context.log[level]({ res: { statusCode: res.statusCode }, responseTime }, msg);
      }
    };
    res.on('finish', () => {
      // Only a sent answer ends the request: when the client went away first, the work still running
      // for it keeps its id.
      context.finished = true;
      onComplete();
    });
    res.on('close', onComplete);
    res.on('error', onComplete);
    requestContext.run(context, next);
  };
}

/**
 * The request being served in the current async context, until its answer is sent; undefined in
 * jobs and workers. For what belongs to the request rather than to any one call (its id, its
 * authenticated caller), such as the audit log's actor.
 */
export function currentRequest(): Request | undefined {
  const context = requestContext.getStore();
  return context && !context.finished ? context.req : undefined;
}

/** Nest's logger interface on top of pino, picking up the current request's child logger. */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly root: Pino) {}

  private current(context?: unknown): Pino {
    const request = requestContext.getStore();
    const log = request && !request.finished ? request.log : this.root;
    return typeof context === 'string' ? log.child({ context }) : log;
  }

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, rest: unknown[]) {
    // Nest passes the context as the last argument (and for errors a stack before it).
    const context = rest.length > 0 ? rest[rest.length - 1] : undefined;
    const log = this.current(context);
    if (message !== null && typeof message === 'object' && !(message instanceof Error)) {
      log[level](message as object);
    } else if (message instanceof Error) {
      log[level]({ err: message }, message.message);
    } else {
      log[level](String(message));
    }
  }

  log(message: unknown, ...rest: unknown[]) {
    const context = rest.length > 0 ? rest[rest.length - 1] : undefined;
    this.write(typeof context === 'string' && START_UP_CONTEXTS.has(context) ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('fatal', message, rest);
  }
}
