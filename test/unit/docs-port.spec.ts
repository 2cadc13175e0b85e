import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { buildAppConfig } from '../../src/config/app-config.js';
import { root } from '../support/sources.js';

/**
 * Every example in the README and docs/ reaches the service on the port it listens on by default (a
 * newcomer pastes them against a plain `npm start`). Before, twelve used localhost:3000.
 */
const PORT = buildAppConfig({}).port;
const files = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('doc examples use the port the service listens on', () => {
  it(`the default PORT is ${PORT}`, () => expect(PORT).toBe(3001));

  it.each(files)('%s', (file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    // The service's own routes (/api, /admin, /portal, /v1 of the gateway) on whatever host an example names.
    const wrong = [
      ...text.matchAll(/(?:localhost|127\.0\.0\.1|\/\/accounting):(\d+)(?=\/(?:api|admin|portal|v1)\b|['"\s]|$)/gm),
    ]
      .filter((m) => Number(m[1]) !== PORT && !['5432', '5499', '6379'].includes(m[1]))
      .map((m) => `${m[0]} (line ${text.slice(0, m.index).split('\n').length})`);
    expect(wrong).toEqual([]);
  });
});
