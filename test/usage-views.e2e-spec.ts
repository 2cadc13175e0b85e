import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

// "Fail closed, stay up" for what usage views show: CSV cells no spreadsheet runs.

let t: TestApp;
let f: Fixtures;
const users: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  f = new Fixtures(t, { users, prefix: 'views' });
});
afterAll(async () => {
  await expectInvariants(t, users);
  await t.close();
});

/** Reads a whole text/csv answer. */
async function csv(path: string, auth: { Authorization: string }) {
  const res = await t.http
    .get(path)
    .set(auth)
    .buffer(true)
    .parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    });
  expect(res.status).toBe(200);
  return res.body as string;
}

/** Cells as a reader splitting on `separator` and line breaks sees them, leading quote marks dropped. */
const cellsSplitOn = (text: string, separator: string) =>
  text.split(new RegExp(`[${separator}\r\n]`)).map((cell) => cell.replace(/^"+/, ''));

describe('CSV export cells', () => {
  const NASTY = ["ok;=cmd|' /C calc'!A0", '=HYPERLINK("http://x")', ' +1', '\t@SUM(A1)', '-2+3', 'a,=b', 'tab\t=1'];

  it('quotes every text cell, and no cell reads as a formula with `,`, `;` or tab as separator', async () => {
    const u = await f.newUser({ credits: 100 });
    for (const [i, text] of NASTY.entries()) {
      await t.http
        .post('/api/usage/record')
        .set(u.auth)
        .send({ service: text, operation: text, modelId: `m-${i}${text}`, credits: 1, metadata: { note: text } })
        .expect(201);
    }
    for (const path of ['/api/usage/records/export', '/api/usage/records?format=csv']) {
      const text = await csv(path, u.auth);
      const lines = text.split('\r\n').filter(Boolean);
      expect(lines).toHaveLength(NASTY.length + 1);
      // The first service recorded is the last line (newest first): quoted whole, its formula defused.
      expect(lines.at(-1)).toContain(`,"ok;'=cmd|' /C calc'!A0","ok;'=cmd|' /C calc'!A0",1,`);
      for (const line of lines.slice(1)) {
        expect(line).toMatch(
          /^"[0-9a-f-]{36}","views-[^"]+","[0-9T:.Z-]+","(?:[^"]|"")*","(?:[^"]|"")*",1,"(?:[^"]|"")*",,,,"billed","(?:[^"]|"")*"$/,
        );
      }
      for (const separator of [',', ';', '\t'])
        for (const cell of cellsSplitOn(text, separator))
          expect(cell, `${JSON.stringify(cell)} split on ${JSON.stringify(separator)}`).not.toMatch(
            /^(?:[^\S\t\r\n]|")*[=+\-@\t\r]/,
          );
    }
  });
});
