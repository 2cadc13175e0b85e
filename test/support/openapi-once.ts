import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/**
 * Swagger's scan of an app's routes (SwaggerModule.createDocument, called by createApp() through
 * setupSwagger()) is half of what starting a test app costs: seconds each time on this machine, and the
 * suite starts over two hundred apps. The scan reads only the app's controllers and their decorators,
 * which are the same for every app made from the same classes; so the apps of a test worker scan each
 * set of controllers once and each gets a copy of that document (a deep copy: the app's rules then edit
 * their own, as they edit a fresh scan). An app with other controllers (a spec's test-only module, a
 * module the environment leaves out) has another set, and a scan of its own.
 */
const scanned = new Map<string, OpenAPIObject>();
const classIds = new WeakMap<object, number>();
let classes = 0;

const scan = SwaggerModule.createDocument.bind(SwaggerModule);

/** Once per worker (module scope: the e2e projects' workers keep their modules from file to file). */
export function scanEachRouteSetOnce(): void {
  if ((SwaggerModule.createDocument as { once?: true }).once) return;
  const once: typeof SwaggerModule.createDocument = (app, config, options) => {
    const key = JSON.stringify([controllersOf(app), config, options ?? null]);
    let document = scanned.get(key);
    if (!document) {
      document = scan(app, config, options);
      scanned.set(key, structuredClone(document));
      return document;
    }
    return structuredClone(document);
  };
  SwaggerModule.createDocument = Object.assign(once, { once: true as const });
}

/** The app's controller classes, each by an id of its own (two classes of one name are two). */
function controllersOf(app: INestApplication): number[] {
  const ids: number[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as object | null;
      if (!type) continue;
      if (!classIds.has(type)) classIds.set(type, ++classes);
      ids.push(classIds.get(type)!);
    }
  }
  return ids.sort((a, b) => a - b);
}
