import type { NextFunction, Request, Response } from 'express';

import { type MetricsService, UNMATCHED_ROUTE } from './metrics.service.js';

const ARRIVED = Symbol('arrived');

/**
 * Notes when a request arrived, for one that waits before it enters the app (a correction waiting
 * for its turn, CorrectionTurns.intake): its time is counted from then, not from its turn.
 */
export function markArrival(req: object): void {
  (req as { [ARRIVED]?: bigint })[ARRIVED] = process.hrtime.bigint();
}

/**
 * Times every request from its first byte to the end of its answer and records it under the route
 * template Express matched (`/api/usage/stats/:userId`), never the raw path, so the label set stays
 * bounded whatever clients send. Mounted first, so refusals by guards and filters count too. It keeps
 * the count of requests in flight too (work that yields to the others reads it: corrections' turns;
 * a correction waiting for its turn ahead of the app is not in it yet).
 */
export function httpMetrics(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = (req as { [ARRIVED]?: bigint })[ARRIVED] ?? process.hrtime.bigint();
    metrics.requestsInFlight++;
    // 'close' comes once, after 'finish' or for a request whose client went away.
    res.once('close', () => metrics.requestsInFlight--);
    res.once('finish', () => {
      const route = req.route?.path;
      const template = typeof route === 'string' ? req.baseUrl + route : UNMATCHED_ROUTE;
      metrics.observeRequest(req.method, template, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}
