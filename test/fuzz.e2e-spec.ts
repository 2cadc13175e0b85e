import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import {
  type Components,
  FUZZ_USERS,
  invalidQueryValue,
  mutated,
  parameter,
  queryKind,
  resolve,
  type Schema,
  valid,
} from './support/openapi-arbitraries.js';

/**
 * The schema-driven fuzz test: every operation of the generated OpenAPI document gets
 * schema-valid and schema-invalid requests (wrong types, missing and extra fields, boundaries, odd and
 * long strings, deep nesting, forged cursors, odd dates). Whatever comes back must be no 5xx, a status
 * the document lists for the operation, a JSON body that matches the documented schema, and a refused
 * mutation must move no credits and write no ledger entry or usage record. Integer, enum, date and
 * boolean query parameters also get values their rule must refuse although a lenient parser would
 * take them (`limit=0x10`, `limit=%205`, `format=JSON`, `startDate=20261101`, malformed escapes…),
 * sent as raw URL text: each must be a 400.
 *
 * FUZZ_RUNS (default 20 per operation and kind), FUZZ_SEED (printed) and FUZZ_OPERATION
 * (an operationId) replay or narrow a run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 20);
/**
 * The whole walk is one test (the operations are known only once the app answers its document), so
 * its time grows with the API: 2 × RUNS requests per operation, about 170 operations, a few ms each.
 */
const FUZZ_TIMEOUT_MS = 240_000;
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ONLY = process.env.FUZZ_OPERATION;

interface Operation {
  operationId: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content: { 'application/json'?: { schema: Schema } } };
  responses: Record<string, { content?: { 'application/json'?: { schema: Schema } } }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Components };
}

let t: TestApp;
let doc: Document;
const adminJwt = tokenFor('admin', 'fuzz-admin');
const admin = bearer(adminJwt);
const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats is CommonJS: its plugin is the module itself and also its `default`.
const addFormats =
  (ajvFormats as unknown as { default?: (a: Ajv) => void }).default ?? (ajvFormats as unknown as (a: Ajv) => void);
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();

beforeAll(async () => {
  // No scheduled jobs: a renewal or expiry running meanwhile would move money under a refused request.
  t = await startTestApp({ THROTTLE_LIMIT: '10000000', JOBS_ENABLED: 'false' });
  // Every organisation the fuzzer may make has an account above this one (an identity column).
  accountsBefore = String((await t.db.query(`SELECT coalesce(max(account_id), 0) AS max FROM accounts`)).rows[0].max);
  doc = (await t.http.get('/api/docs-json').expect(200)).body as Document;
  const f = new Fixtures(t, { granter: adminJwt });
  // Fixed ids (the money check finds them by prefix): their accounts come with the grant.
  for (const userId of FUZZ_USERS)
    await f.allocate(userId, { credits: 1_000_000, email: `${userId}@example.com`, username: userId }).expect(201);
  // The fuzzer's users (the admin's account came with its first request) and their accounts, once:
  // the money check then reads by index, where a prefix match through account_user_id() on every
  // allocation of the run's shared database grew with the run (seconds a file in the whole suite).
  const { rows } = await t.db.query<{ user_id: string; account_id: string }>(
    `SELECT user_id, account_id FROM accounts WHERE user_id LIKE 'fuzz-%' ORDER BY user_id`,
  );
  expect(rows.map((r) => r.user_id)).toEqual([...FUZZ_USERS, 'fuzz-admin'].sort());
  fuzzUsers = rows.map((r) => r.user_id);
  fuzzAccounts = rows.map((r) => r.account_id);
  console.log(`fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
});
afterAll(() => t?.close());

let fuzzUsers: string[] = [];
let fuzzAccounts: string[] = [];
let accountsBefore = '0';

/**
 * Money of the fuzzer's own users: credits left on their accounts, ledger lines they are the person
 * of (on their accounts, or on an organisation's made since the fuzz began: no other spec names the
 * fuzzer's users), usage records. Every read goes through an index (accounts, allocations and ledger
 * by account, records by user); a named statement is planned once.
 */
async function money(): Promise<string> {
  const { rows } = await t.db.query({
    name: 'fuzz-money',
    text: `SELECT (SELECT coalesce(sum(remaining_credits), 0) FROM credit_allocations WHERE account_id = ANY ($1::bigint[])) AS credits,
                  (SELECT count(*) FROM credit_ledger
                    WHERE account_id = ANY ($1::bigint[] || ARRAY(SELECT account_id FROM accounts WHERE account_id > $3::bigint AND kind = 'org'))
                      AND member_id = ANY ($2::text[])) AS ledger,
                  (SELECT count(*) FROM usage_records WHERE user_id = ANY ($2::text[])) AS records`,
    values: [fuzzAccounts, fuzzUsers, accountsBefore],
  });
  return JSON.stringify(rows[0]);
}

/** The document's components, added to ajv once (the first validator needs them). */
const COMPONENTS_ID = 'https://fuzz.test/components.json';

function validatorFor(key: string, schema: Schema): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    // Refs point at '#/components/schemas/…': they are made to point at one schema that carries the
    // components, added once. A root of its own for each validator made ajv walk every component
    // again for each of the few hundred it compiles (a twentieth of the spec's CPU).
    if (!ajv.getSchema(COMPONENTS_ID)) ajv.addSchema({ $id: COMPONENTS_ID, components: doc.components });
    const refs = JSON.stringify(schema).replaceAll('"#/components/', `"${COMPONENTS_ID}#/components/`);
    validate = ajv.compile(JSON.parse(refs) as Schema);
    validators.set(key, validate);
  }
  return validate;
}

function pathSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80'; // a lone surrogate, as a client that encodes it anyway would send it
  }
}

interface Sent {
  method: string;
  url: string;
  body?: unknown;
}

async function send(method: string, path: string, op: Operation, values: Record<string, unknown>, body: unknown) {
  let url = path;
  const query = new URLSearchParams();
  for (const p of op.parameters ?? []) {
    const value = values[p.name];
    if (p.in === 'path') url = url.replace(`{${p.name}}`, pathSegment(String(value)));
    else if (p.in === 'query' && value !== undefined) query.set(p.name, String(value));
  }
  if ([...query.keys()].length) url += `?${query}`;
  const sent: Sent = { method, url, body };
  let req = t.http[method as 'get'](url).set(admin);
  if (body !== undefined) req = req.set('Content-Type', 'application/json').send(JSON.stringify(body));
  return { res: await req, sent };
}

function check(
  op: Operation,
  res: { status: number; body: unknown; headers: Record<string, string> },
  sent: Sent,
): string | null {
  const where = `${sent.method.toUpperCase()} ${sent.url} ${JSON.stringify(sent.body)?.slice(0, 300)} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
  if (res.status >= 500) return `5xx: ${where}`;
  const documented = op.responses[String(res.status)];
  if (!documented) return `undocumented status: ${where}`;
  const schema = documented.content?.['application/json']?.schema;
  if (schema && /json/.test(res.headers['content-type'] ?? '')) {
    const validate = validatorFor(`${op.operationId} ${res.status}`, schema);
    if (!validate(res.body)) return `body does not match the schema (${ajv.errorsText(validate.errors)}): ${where}`;
  }
  return null;
}

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, op]) => !ONLY || op.operationId === ONLY)
      .map(([method, op]) => ({ path: path.replace(/^\/api/, '/api'), method, op })),
  );

describe('schema-driven fuzzing of every operation', () => {
  it(
    'answers valid and invalid requests with documented statuses and schemas, never 5xx; refusals move nothing',
    async () => {
      const failures: string[] = [];
      let unmoved: string | null = null;
      for (const { path, method, op } of operations()) {
        const params = Object.fromEntries(
          (op.parameters ?? [])
            .filter((p) => p.in === 'path' || p.in === 'query')
            .map((p) => [p.name, parameter(p.name, p.schema, doc.components.schemas, p.in === 'path')]),
        );
        const bodySchema = op.requestBody?.content['application/json']?.schema;
        const bodies = bodySchema
          ? fc.oneof(valid(bodySchema, doc.components.schemas), mutated(bodySchema, doc.components.schemas))
          : fc.constant(undefined);
        const mutates = method !== 'get';
        try {
          await fc.assert(
            fc.asyncProperty(fc.record(params), bodies, async (values, body) => {
              // After a refused mutation the money read then is the next request's before: nothing
              // was sent between the two (half of the reads, most mutations being refused).
              const before = mutates ? (unmoved ?? (await money())) : '';
              unmoved = null;
              const { res, sent } = await send(method, path, op, values, body);
              const problem = check(op, res, sent);
              if (problem) throw new Error(problem);
              if (mutates && res.status >= 400) {
                const after = await money();
                if (after !== before)
                  throw new Error(`a refused request changed money: ${sent.method} ${sent.url} → ${res.status}`);
                unmoved = after;
              }
            }),
            { seed: SEED, numRuns: RUNS * 2, endOnFailure: true },
          );
        } catch (error) {
          const cause = (error as Error & { cause?: Error }).cause?.message;
          const counterexample = /Counterexample: .*/.exec((error as Error).message)?.[0];
          failures.push(`${op.operationId}: ${cause ?? (error as Error).message} (${counterexample})`);
        }
      }
      expect(failures, `replay with FUZZ_SEED=${SEED}`).toEqual([]);
    },
    FUZZ_TIMEOUT_MS,
  );

  it('refuses integer, enum, date and boolean query values not written as their rule says, and bad escapes', async () => {
    const failures: string[] = [];
    let typedParameters = 0;
    for (const { path, method, op } of operations()) {
      const typed = (op.parameters ?? []).flatMap((p) => {
        const kind = p.in === 'query' ? queryKind(p.name, p.schema) : null;
        return kind && p.schema ? [{ name: p.name, kind, schema: resolve(p.schema, doc.components.schemas) }] : [];
      });
      if (typed.length === 0) continue;
      typedParameters += typed.length;
      // Valid path values, so that a 400 can only be the query's.
      const pathValues = Object.fromEntries(
        (op.parameters ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => [p.name, valid(p.schema ?? { type: 'string' }, doc.components.schemas, p.name).map(String)]),
      );
      // A required query parameter (a roll-forward's currency, from and to) is sent with its documented
      // example beside the one probed, which replaces it: the examples are valid together, where values
      // drawn one by one need not be (a `from` after the example's `to`).
      const required = (op.parameters ?? []).filter((p) => p.in === 'query' && p.required);
      const exampleOf = (name: string) => {
        const p = required.find((r) => r.name === name) as { example?: unknown; schema?: { example?: unknown } };
        return p?.example ?? p?.schema?.example;
      };
      const urlOf = (values: Record<string, string>, name: string, value: string) =>
        `${Object.entries(values).reduce((url, [n, v]) => url.replace(`{${n}}`, pathSegment(v)), path)}?${[
          ...required
            .filter((r) => r.name !== name)
            .map((r) => `${r.name}=${encodeURIComponent(String(exampleOf(r.name)))}`),
          `${name}=${value}`,
        ].join('&')}`;
      // The control: each parameter with a value its rule allows is not refused.
      const [values] = fc.sample(fc.record(pathValues), { seed: SEED, numRuns: 1 });
      for (const { name, schema } of typed) {
        const [sampled] = fc.sample(valid(schema, doc.components.schemas, name), { seed: SEED, numRuns: 1 });
        const good = exampleOf(name) ?? sampled;
        const url = urlOf(values, name, encodeURIComponent(String(good)));
        const res = await t.http[method as 'get'](url).set(admin);
        if (res.status === 400) failures.push(`${op.operationId}: a valid value was refused: ${url} → 400`);
      }
      const broken = fc.oneof(
        ...typed.map(({ name, kind, schema }) => invalidQueryValue(kind, schema).map((value) => ({ name, value }))),
      );
      try {
        await fc.assert(
          fc.asyncProperty(fc.record(pathValues), broken, async (values, { name, value }) => {
            const url = urlOf(values, name, value);
            const res = await t.http[method as 'get'](url).set(admin);
            // Exactly 400: another 4xx (a 404 for the fuzzer's made-up webhook id) comes from a
            // handler, which runs only once the query passed validation.
            if (res.status !== 400) throw new Error(`not refused: ${method.toUpperCase()} ${url} → ${res.status}`);
            const problem = check(op, res, { method, url });
            if (problem) throw new Error(problem);
          }),
          { seed: SEED, numRuns: RUNS * 2, endOnFailure: true },
        );
      } catch (error) {
        const cause = (error as Error & { cause?: Error }).cause?.message;
        failures.push(`${op.operationId}: ${cause ?? (error as Error).message}`);
      }
    }
    expect(typedParameters).toBeGreaterThan(ONLY ? 0 : 10);
    expect(failures, `replay with FUZZ_SEED=${SEED}`).toEqual([]);
  });

  it('the fuzzer reaches every operation and its arbitraries produce both accepted and refused bodies', async () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(ONLY ? 0 : 30);
    const record = resolve({ $ref: '#/components/schemas/RecordUsageDto' }, doc.components.schemas);
    // Some mutations stay valid (an optional field left out, an odd value the field takes): up to 60
    // samples, until one is refused, so no seed draws only accepted ones.
    const samples = fc.sample(mutated(record, doc.components.schemas), { seed: SEED, numRuns: 60 });
    const statuses = new Set<number>();
    for (const body of samples) {
      if (statuses.has(400)) break;
      const res = await t.http
        .post('/api/usage/record')
        .set(bearer(token({ sub: 'fuzz-a' })))
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(body));
      statuses.add(res.status);
    }
    expect(statuses.has(400)).toBe(true);
  });
});
