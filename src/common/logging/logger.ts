import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { pino, type Logger as Pino, type DestinationStream } from 'pino';
import { pinoHttp } from 'pino-http';
import type { LogLevel } from '../../config/app-config.js';

const requestContext = new AsyncLocalStorage<{ log: Pino }>();
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createRootLogger(level: LogLevel, destination?: DestinationStream): Pino {
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
    destination,
  );
}

/**
 * Express middleware: a request id (the caller's X-Request-Id when sane, else a UUID), echoed back,
 * one access log line per request, and a per-request child logger that every Nest log line written
 * while serving the request goes through (so every line carries `reqId`).
 */
export function requestLogging(root: Pino) {
  const http = pinoHttp({
    logger: root,
    genReqId: (req, res) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug'),
    serializers: {
      req: (req) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res) => ({ statusCode: res.statusCode }),
    },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    http(req, res, () => requestContext.run({ log: (req as Request & { log: Pino }).log }, next));
  };
}

/** Nest's logger interface on top of pino, picking up the current request's child logger. */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly root: Pino) {}

  private current(context?: unknown): Pino {
    const log = requestContext.getStore()?.log ?? this.root;
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
    this.write('info', message, rest);
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
