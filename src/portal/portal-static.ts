import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import express, { type NextFunction, type Request, type Response } from 'express';

/** Where the portal is served. */
export const PORTAL_PATH = '/portal';
/** The embeddable elements' module, inside the portal's build. */
export const EMBED_FILE = 'embed.js';

/**
 * The portal's Content-Security-Policy: everything from this service only, as the console's; it may
 * be framed by this origin and by the PORTAL_ALLOWED_ORIGINS, nobody else.
 */
export function portalCsp(allowedOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors 'self'${allowedOrigins.map((o) => ` ${o}`).join('')}`,
  ].join('; ');
}

/** The built portal (`npm run portal:build` writes console/dist-portal), from src/ or dist/src/. */
export function defaultPortalDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [resolve(here, '../../console/dist-portal'), resolve(here, '../../../console/dist-portal')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0];
}

/**
 * Serves the portal at /portal: hashed assets immutable, `embed.js` to the allowed origins (CORS: a
 * module script of another origin is fetched in CORS mode, so an origin not listed gets nothing), and
 * index.html for every other GET (tabs live in the browser). Helmet's `X-Frame-Options: SAMEORIGIN`
 * is dropped here: `frame-ancestors` says who may frame the portal.
 */
export function portalMiddleware(portalDir: string, allowedOrigins: readonly string[]): express.Router {
  const dir = resolve(portalDir);
  const csp = portalCsp(allowedOrigins);
  const router = express.Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', csp);
    res.removeHeader('X-Frame-Options');
    const origin = req.headers.origin;
    if (typeof origin === 'string' && allowedOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    }
    res.setHeader('Vary', 'Origin');
    next();
  });
  if (!existsSync(join(dir, 'index.html'))) {
    router.use((_req: Request, res: Response) => {
      res.status(404).type('text/plain').send('The portal is not built: run `npm run build`.\n');
    });
    return router;
  }
  router.use('/assets', express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false }));
  router.use('/assets', (_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('Not found\n');
  });
  // No redirect of /portal to /portal/: the page answers at both, with the portal's own headers.
  router.use(
    express.static(dir, {
      index: false,
      redirect: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(join(dir, 'index.html'));
  });
  return router;
}

/** The API's CORS origins: CORS_ORIGIN's, plus the pages that embed the portal's elements. */
export function corsOrigins(corsOrigin: string[] | boolean, portalOrigins: readonly string[]): string[] | boolean {
  if (corsOrigin === true) return true;
  const all = [...(corsOrigin || []), ...portalOrigins];
  return all.length > 0 ? [...new Set(all)] : false;
}
