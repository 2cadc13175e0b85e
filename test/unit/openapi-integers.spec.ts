import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { root } from '../support/sources.js';

/**
 * Every count the API answers or takes (credits, tokens, records, seconds, status codes) is a whole
 * number, and the committed document (`openapi.json`, which `npm run client:check` holds to the code)
 * says so: `integer`, never `number`, so that a client generated in a language with both types reads
 * credits as the integers they are. Money and prices are decimal strings. A property declared as a
 * TypeScript `number` with a plain `@ApiProperty`, not `@ApiInteger()` (src/common/validation/integers.ts),
 * fails here. A `number` stays
 * only as one of several types (`oneOf`): a price given as a JSON number instead of its decimal
 * string, a feature's value that may be a number, a string or a boolean. And one is not the
 * service's: the readiness answer's schema comes whole from `@nestjs/terminus` (`@HealthCheck()`),
 * whose `responseTime` is a duration in milliseconds.
 */
const TERMINUS = /^#\/paths\/\/api\/health\/ready\/get\/responses\/\d+\/.*\/responseTime$/;
describe('openapi.json: counts are integers', () => {
  it('has no schema of type number but among a oneOf’s types', () => {
    const document: unknown = JSON.parse(readFileSync(path.join(root, 'openapi.json'), 'utf8'));
    const numbers: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) {
        node.forEach((item, i) => walk(item, `${at}/${i}`));
        return;
      }
      if (node === null || typeof node !== 'object') return;
      const object = node as Record<string, unknown>;
      if (object.type === 'number' && !/\/oneOf\/\d+$/.test(at) && !TERMINUS.test(at)) numbers.push(at);
      for (const [key, value] of Object.entries(object)) walk(value, `${at}/${key}`);
    };
    walk(document, '#');
    expect(numbers).toEqual([]);
  });
});
