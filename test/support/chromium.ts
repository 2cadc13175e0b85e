import { type Browser, type BrowserContext, chromium } from 'playwright-core';

/** Debian's chromium (apt-get install chromium), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * One Chromium per test worker, launched by the first spec file that asks and kept for the ones after
 * it (the e2e workers keep their modules from file to file): launching it cost each of the browser
 * specs a second or more of a core. Every page lives in a context of its own (cookies, storage,
 * viewport, colour scheme), so what one file did in it is nothing another file sees. It ends with its
 * worker (Playwright kills the browsers it launched when the process exits).
 */
let shared: Promise<Browser> | undefined;

function sharedChromium(): Promise<Browser> {
  const launched = (shared ??= chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }).then((browser) => {
    // A crashed browser is launched again for the next file, not handed out dead.
    browser.on('disconnected', () => {
      if (shared === launched) shared = undefined;
    });
    return browser;
  }));
  launched.catch(() => {
    if (shared === launched) shared = undefined;
  });
  return launched;
}

/**
 * The worker's Chromium as a spec file's own: contexts and pages made through it are the file's, and
 * its close() closes them (the browser stays up for the next file).
 */
export async function launchChromium(): Promise<Browser> {
  const browser = await sharedChromium();
  const contexts = new Set<BrowserContext>();
  const own = (context: BrowserContext) => {
    contexts.add(context);
    context.on('close', () => contexts.delete(context));
    return context;
  };
  return new Proxy(browser, {
    get(target, property) {
      if (property === 'newContext') {
        return async (...args: Parameters<Browser['newContext']>) => own(await target.newContext(...args));
      }
      if (property === 'newPage') {
        return async (...args: Parameters<Browser['newPage']>) => {
          const page = await target.newPage(...args);
          own(page.context());
          return page;
        };
      }
      if (property === 'close') {
        return async () => {
          await Promise.all([...contexts].map((context) => context.close()));
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
