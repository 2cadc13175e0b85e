import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';

import type { NextFunction, Request, Response } from 'express';
import type { DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';

import { createRootLogger, PinoLoggerService, requestLogging } from './logger.js';

function setup() {
  const lines: { msg: string; req?: { id: string } }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const root = createRootLogger('info', destination as unknown as DestinationStream);
  return { lines, logger: new PinoLoggerService(root), middleware: requestLogging(root) };
}

/** Runs `serve` inside the request context of a fake request with id `id`; returns its response. */
function request(middleware: ReturnType<typeof requestLogging>, id: string, serve: () => void) {
  const req = { headers: { 'x-request-id': id }, method: 'GET', originalUrl: '/x', url: '/x' };
  const res = Object.assign(new EventEmitter(), { statusCode: 200, writableEnded: true, setHeader: () => res });
  middleware(req as unknown as Request, res as unknown as Response, serve as NextFunction);
  return res;
}

const byMsg = (lines: { msg: string; req?: { id: string } }[], msg: string) => lines.find((l) => l.msg === msg);

describe('request ids on log lines', () => {
  it('lines written while serving carry the id; lines from the request’s context after its answer do not', () => {
    const { lines, logger, middleware } = setup();
    let late!: () => void;
    const res = request(middleware, 'req-1', () => {
      logger.warn('while serving');
      // What a socket or pool client created during the request does: keep its context for later.
      late = AsyncResource.bind(() => logger.warn('database connection lost'));
    });
    res.emit('finish');
    late();
    expect(byMsg(lines, 'while serving')?.req?.id).toBe('req-1');
    expect(byMsg(lines, 'database connection lost')).toBeDefined();
    expect(byMsg(lines, 'database connection lost')?.req).toBeUndefined();
  });

  it('a client that went away does not end the request: work still running for it keeps the id', () => {
    const { lines, logger, middleware } = setup();
    let stillRunning!: () => void;
    const res = request(middleware, 'req-2', () => {
      stillRunning = AsyncResource.bind(() => logger.warn('handler finishing'));
    });
    res.emit('close');
    stillRunning();
    expect(byMsg(lines, 'handler finishing')?.req?.id).toBe('req-2');
  });

  it('lines outside any request carry no id', () => {
    const { lines, logger } = setup();
    logger.log('started');
    expect(byMsg(lines, 'started')).toBeDefined();
    expect(byMsg(lines, 'started')?.req).toBeUndefined();
  });
});
