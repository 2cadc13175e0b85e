import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import express, { type NextFunction, type Request, type Response } from 'express';

/** Where the console is served: everything else of the service is left alone. */
export const CONSOLE_PATH = '/admin';

/**
 * The console's Content-Security-Policy: scripts, styles, fonts and API calls from this service only.
 * Mantine and uPlot set inline style attributes, hence `'unsafe-inline'` for styles (never for scripts).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The built console (`npm run console:build` writes console/dist), from src/ or dist/src/. */
export function defaultConsoleDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [resolve(here, '../../console/dist'), resolve(here, '../../../console/dist')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0];
}

/**
 * Serves the built console at /admin with express.static: hashed assets (`/admin/assets/…`) are
 * immutable, every other GET under /admin that names no file gets index.html (the console routes in
 * the browser). Mounted on /admin only, so API routes never reach it. Without a build, /admin says so.
 */
export function consoleMiddleware(consoleDir: string): express.Router {
  const dir = resolve(consoleDir); // sendFile wants an absolute path; CONSOLE_DIR may be relative
  const router = express.Router();
  const built = existsSync(join(dir, 'index.html'));
  router.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    next();
  });
  if (!built) {
    router.use((_req: Request, res: Response) => {
      res.status(404).type('text/plain').send('The console is not built: run `npm run build`.\n');
    });
    return router;
  }
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
    }),
  );
  router.use('/assets', (_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('Not found\n');
  });
  router.use(
    express.static(dir, {
      index: false,
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

/** Where browsers look for a site's icon when a page names none (Swagger UI, the API's own pages). */
export const FAVICON_PATH = '/favicon.ico';

/**
 * The console's icon (console/public/favicon.ico, copied into the build) at /favicon.ico as well as
 * /admin/favicon.ico: every page of the service gets an icon instead of a 404 in the browser's log.
 */
export function faviconMiddleware(consoleDir: string) {
  const file = join(resolve(consoleDir), 'favicon.ico');
  return (req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !existsSync(file)) return next();
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type('image/x-icon').sendFile(file);
  };
}
