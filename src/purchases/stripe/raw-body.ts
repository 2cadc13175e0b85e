import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** Where the raw body of the Stripe webhook is kept (its signature covers the exact bytes). */
const raw = new WeakMap<Request, Buffer>();

/**
 * The Stripe webhook's body parser: the bytes as they came (up to `limit`), kept apart; `req.body`
 * stays empty so the app's JSON parser and shape checks see nothing to parse.
 */
export function stripeRawBody(limit: string): RequestHandler {
  const parse = express.raw({ type: () => true, limit });
  return (req: Request, res: Response, next: NextFunction) =>
    parse(req, res, (error?: unknown) => {
      if (error) return next(error);
      if (Buffer.isBuffer(req.body)) raw.set(req, req.body);
      req.body = {};
      next();
    });
}

export const rawBodyOf = (req: Request): Buffer | undefined => raw.get(req);
