import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { inputBound } from '../src/gateway/admission.js';
import { type GatewayHarness, startGateway } from './support/gateway.js';
import { heldOf, otherModel } from './support/gateway-holds.js';
import { expectInvariants } from './support/invariants.js';

/**
 * docs/gateway.md "What can change the cost", walked: each row's example is sent beside its route's
 * minimal body and its hold (or refusal) is the row's. A field added to the table is tested by it.
 */
interface Row {
  route: string;
  field: string;
  example: Record<string, unknown>;
  held: string;
}

const WINDOW = 5000;

function costTable(): Row[] {
  const doc = readFileSync(new URL('../docs/gateway.md', import.meta.url), 'utf8');
  const section = doc.split('## What can change the cost')[1].split('\n## ')[0];
  const unquote = (cell: string) => cell.trim().replace(/^`|`$/g, '');
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `/'))
    .map((line) => {
      const cells = line.split(' | ').map((cell) => cell.replace(/^\|\s*|\s*\|$/g, ''));
      expect(cells, line).toHaveLength(5);
      return {
        route: unquote(cells[0]),
        field: cells[1].trim(),
        example: JSON.parse(unquote(cells[2])) as Record<string, unknown>,
        held: unquote(cells[4]),
      };
    });
}

/** The least body each route takes, beside which a row's example is sent. */
const MINIMAL: Record<string, Record<string, unknown>> = {
  '/chat/completions': { messages: [{ role: 'user', content: 'hi' }] },
  '/responses': { input: 'hi' },
  '/messages': { messages: [{ role: 'user', content: 'hi' }] },
  '/embeddings': { input: 'hi' },
};

describe('gateway: the cost table of docs/gateway.md', () => {
  const rows = costTable();
  let h: GatewayHarness;
  let key: string;
  /** A model with a context window and web searches priced; the harness's has no window. */
  let model: string;

  beforeAll(async () => {
    h = await startGateway();
    model = await otherModel(h, 'walk', { contextWindow: WINDOW, unitPrices: { web_search_call: '3' } });
    const user = await h.f.newUser({ credits: 10_000_000 });
    key = (await h.f.apiKey(user, { permissions: ['gateway'] })).key;
  });
  afterAll(() => h.close());
  afterEach(() => expectInvariants(h.t, h.users));

  const send = async (route: string, body: Record<string, unknown>) => {
    const id = `gw-table-${randomUUID()}`;
    const before = h.standIn.requests.length;
    const res = await fetch(`${h.origin}/v1${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as any;
    const code = route === '/messages' ? /^([A-Z_]+):/.exec(answer.error?.message ?? '')?.[1] : answer.error?.code;
    return { id, status: res.status, code, upstream: h.standIn.requests.length - before };
  };

  it('covers every route', () => {
    expect(new Set(rows.map((r) => r.route))).toEqual(new Set(Object.keys(MINIMAL)));
  });

  it.each(rows.map((row) => [`${row.route} ${row.field} → ${row.held}`, row] as const))('%s', async (_, row) => {
    const body = { ...MINIMAL[row.route], ...row.example, model };
    const answer = await send(row.route, body);
    const refusal = /^(\d{3}) ([A-Z_]+)$/.exec(row.held);
    if (refusal) {
      expect({ status: answer.status, code: answer.code, upstream: answer.upstream }).toEqual({
        status: Number(refusal[1]),
        code: refusal[2],
        upstream: 0,
      });
      return;
    }
    expect(answer.status).toBe(200);
    const held = await heldOf(h, answer.id);
    const [what, value] = row.held.split(': ');
    if (what === 'input' && value === 'bytes') expect(held.input).toBe(inputBound(body));
    else if (what === 'input' && value === 'window') expect(held.input).toBe(WINDOW);
    else if (what === 'output') expect(held.output).toBe(Number(value));
    else if (what === 'units') {
      expect(held.units).toEqual({ web_search_call: Number(value) });
      expect(held.input).toBe(WINDOW);
    } else throw new Error(`the table's held "${row.held}" is not one this spec reads`);
    // Input the body does not contain, for a model with no known window: refused before the upstream.
    if (value === 'window' || what === 'units') {
      const windowless = await send(row.route, { ...body, model: h.model });
      expect({ status: windowless.status, code: windowless.code, upstream: windowless.upstream }).toEqual({
        status: 400,
        code: 'UNBOUNDED_INPUT',
        upstream: 0,
      });
    }
  });
});
