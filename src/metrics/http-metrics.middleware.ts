import type { NextFunction, Request, Response } from 'express';

import { type MetricsService, UNMATCHED_ROUTE } from './metrics.service.js';

/**
 * Times every request from its first byte to the end of its answer and records it under the route
 * template Express matched (`/api/usage/stats/:userId`), never the raw path, so the label set stays
 * bounded whatever clients send. Mounted first, so refusals by guards and filters count too. It keeps
 * the count of requests in flight too (work that yields to the others reads it: corrections' turns).
 */
export function httpMetrics(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
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
