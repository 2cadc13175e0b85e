import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

import { acceptCsv, bodyProblem, CSV_TYPE, RequestShapeError } from './request-shape.js';

/** Requests whose body waits for authentication (deferBody marked them). */
const deferred = new WeakSet<Request>();

/**
 * Middleware for a route whose JSON body is read only once its caller is authenticated: a large
 * body (the batch route's 2 MB) costs hundreds of milliseconds of CPU to parse and walk, and an
 * unauthenticated request must cost no more than a small one. Authentication needs no body (JWT and
 * API-key headers), so the guards run first and the route's interceptor parses (readDeferredBody).
 */
export function deferBody(req: Request, _res: Response, next: NextFunction): void {
  deferred.add(req);
  next();
}

/**
 * Middleware for a route that takes a `text/csv` body (a provider's report, megabytes long): a POST
 * of CSV is accepted and deferred like deferBody's, its route reading it after authentication. Any
 * other request goes on as everywhere (a JSON body parsed up to BODY_LIMIT, other types 415).
 */
export function deferCsvBody(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== 'POST' || !CSV_TYPE.test(req.headers['content-type'] ?? '')) return next();
  acceptCsv(req);
  deferBody(req, res, next);
}

/** The app's JSON parser (BODY_LIMIT), for every body that is not deferred. */
export function jsonUnlessDeferred(limit: string): RequestHandler {
  const parse = express.json({ limit });
  return (req, res, next) => (deferred.has(req) ? next() : parse(req, res, next));
}

/**
 * A deferred body's parser with its route's own limit: reads and parses the body as the app's parser
 * does (413 over the limit, 400 for malformed JSON), then refuses what requestShape refuses in any
 * body. A body that is not JSON never gets here (requestShape answers 415 before authentication).
 */
export function deferredBodyReader(limit: string): (req: Request, res: Response) => Promise<void> {
  const parse = express.json({ limit });
  return async (req, res) => {
    await new Promise<void>((resolve, reject) =>
      parse(req, res, (error?: unknown) => (error ? reject(error) : resolve())),
    );
    const problem = bodyProblem(req.body);
    if (problem !== undefined) throw new RequestShapeError(400, problem);
  };
}
