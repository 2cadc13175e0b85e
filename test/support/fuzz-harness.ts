import type { AddressInfo } from 'node:net';

import fc from 'fast-check';

import { startTestApp, type TestApp } from './app.js';
import { type FuzzRequest, requestArbitrary } from './fuzz-arbitraries.js';
import { buildUrl, exchange, type Sent, serializeBody } from './fuzz-http.js';
import {
  type Answer,
  type FuzzOperation,
  type OpenApiDocument,
  operationsOf,
  type Problem,
  ResponseChecker,
} from './fuzz-openapi.js';
import { type Caller, FuzzWorld } from './fuzz-world.js';

/** One distinct broken promise of an operation, with the first request that showed it. */
export interface Finding extends Problem {
  operation: string;
  count: number;
  sent: Sent;
  status: number;
  answer: string;
}

export interface FuzzOptions {
  seed: number;
  runs: number;
  /** FUZZ_OPERATION: the operations to fuzz (all when empty). */
  only?: string;
  /** Let fast-check shrink the first failing request of each operation (slower; off by default). */
  shrink: boolean;
  /** Wall-clock budget for all operations: a safety net on slow machines, not the run count. */
  budgetMs: number;
  /** FUZZ_STRICT=1: also flag response properties the schema does not list. */
  strict?: boolean;
}

/** Strings a request names that could be user ids: their money is checked along with the fuzzer's users. */
function namedUsers(values: unknown[], into: Set<string>): void {
  const stack = [...values];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.length > 0 && v.length <= 50 && v.isWellFormed() && !v.includes('\0')) into.add(v);
    } else if (v !== null && typeof v === 'object') stack.push(...Object.values(v));
  }
}

/** Answers that are not JSON are reported by the checker; here they just hand out no ids. */
function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const seedOf = (seed: number, id: string) =>
  [...id].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, seed) >>> 1;

/** Runs schema-driven requests against a real app and checks every answer against the document. */
export class FuzzHarness {
  readonly operations: FuzzOperation[];
  /** Statuses seen per operation, for valid and for invalid requests. */
  readonly seen = new Map<string, { valid: Map<number, number>; invalid: Map<number, number> }>();
  private readonly checker: ResponseChecker;
  private readonly started = Date.now();
  private done = 0;

  private constructor(
    readonly t: TestApp,
    readonly doc: OpenApiDocument,
    readonly world: FuzzWorld,
    private readonly base: URL,
    readonly options: FuzzOptions,
  ) {
    this.checker = new ResponseChecker(doc, options.strict);
    this.operations = operationsOf(doc, options.only);
    if (this.operations.length === 0)
      throw new Error(
        `FUZZ_OPERATION=${options.only} names no operation; known: ${operationsOf(doc)
          .map((o) => o.id)
          .join(', ')}`,
      );
  }

  static async start(options: FuzzOptions): Promise<FuzzHarness> {
    const t = await startTestApp({ THROTTLE_LIMIT: '10000000' });
    const server = t.app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const doc = JSON.parse((await exchange(base, 'get', '/api/docs-json', {}, undefined)).text) as OpenApiDocument;
    return new FuzzHarness(t, doc, await FuzzWorld.create(t), base, options);
  }

  close(): Promise<void> {
    return this.t.close();
  }

  /** Fuzzes one operation; returns its distinct findings (empty when it kept every promise). */
  async fuzz(operation: FuzzOperation): Promise<Finding[]> {
    const callers = this.world.callers.map((c, i) => ({ c, i }));
    const arbitrary = requestArbitrary(operation, this.doc, {
      permitted: callers.filter(({ c }) => this.world.permits(c, operation.rule)).map(({ i }) => i),
      all: callers.map(({ i }) => i),
    });
    const findings = new Map<string, Finding>();
    const left = this.operations.length - this.done;
    const budget = Math.max(250, (this.options.budgetMs - (Date.now() - this.started)) / Math.max(1, left));
    try {
      await fc.assert(
        fc.asyncProperty(arbitrary, async (request) => {
          const found = await this.run(operation, request);
          for (const f of found) {
            const key = `${f.kind}|${f.cause}`;
            const known = findings.get(key);
            if (known) known.count++;
            else findings.set(key, f);
          }
          if (this.options.shrink && found.length)
            throw new Error(found.map((f) => `${f.kind}: ${f.cause}`).join('; '));
        }),
        {
          seed: seedOf(this.options.seed, operation.id),
          numRuns: this.options.runs,
          endOnFailure: !this.options.shrink,
          interruptAfterTimeLimit: budget,
        },
      );
    } catch (error) {
      if (!this.options.shrink) throw error;
      // Shrinking: fast-check's report (seed, path, smallest counterexample) is the finding.
      findings.set('shrunk', {
        operation: operation.id,
        kind: 'shrunk counterexample',
        cause: (error as Error).message.slice(0, 4000),
        count: 1,
        sent: { method: operation.method, url: operation.path, caller: '', headers: {} },
        status: 0,
        answer: '',
      });
    } finally {
      this.done++;
    }
    return [...findings.values()];
  }

  private async run(operation: FuzzOperation, request: FuzzRequest): Promise<Finding[]> {
    const caller = this.world.callers[request.caller];
    const path = this.world.resolve(request.path, caller) as Record<string, unknown>;
    const query = this.world.resolve(request.query, caller) as [string, unknown][];
    const json = request.body ? this.world.resolve(request.body.json, caller) : undefined;
    const body = serializeBody(request.body && { ...request.body, json });
    const headers: Record<string, string> = { ...caller.headers };
    for (const [name, value] of Object.entries(this.world.resolve(request.headers, caller) as object))
      if (value !== undefined) headers[name] = String(value);
    const url = buildUrl(operation.path, path, query);
    const sent: Sent = {
      method: operation.method.toUpperCase(),
      url,
      caller: caller.label,
      headers: body?.contentType ? { ...headers, 'Content-Type': body.contentType } : headers,
      body: body?.text,
    };

    const users = new Set(this.world.users);
    namedUsers([path, query, json], users);
    const before = await this.world.money([...users]);
    let answer: Answer;
    try {
      answer = await exchange(this.base, operation.method, url, headers, body);
    } catch (error) {
      answer = { status: 0, headers: {}, text: String(error) };
    }
    const problems: Problem[] =
      answer.status === 0
        ? [{ kind: 'no answer', cause: answer.text.slice(0, 200) }]
        : this.checker.check(operation, answer);
    for (const p of problems) if (p.kind === '5xx') p.cause = this.causeOf5xx(answer);
    const { status } = answer;
    if (status >= 200 && status < 300 && !this.world.permits(caller, operation.rule))
      problems.push({
        kind: 'access rule not enforced',
        cause: `${caller.via} caller answered ${status}`,
        detail: caller.label,
      });
    problems.push(...(await this.moneyProblems(operation, caller, status, before)));
    this.count(operation.id, request.valid, status);
    if (status >= 200 && status < 300 && /json/.test(String(answer.headers['content-type'])))
      this.world.harvest(operation.id, status, parseOrUndefined(answer.text));
    return problems.map((p) => ({
      ...p,
      operation: operation.id,
      count: 1,
      sent,
      status,
      answer: answer.text.slice(0, 600),
    }));
  }

  /** A refused request (or any read) moves nothing; a user's accepted request moves only its own money. */
  private async moneyProblems(
    operation: FuzzOperation,
    caller: Caller,
    status: number,
    before: Map<string, string>,
  ): Promise<Problem[]> {
    const after = await this.world.money([...before.keys()]);
    const changed = [...before.keys()].filter((u) => before.get(u) !== after.get(u));
    if (changed.length === 0) return [];
    const detail = changed.map((u) => `${u}: ${before.get(u)} → ${after.get(u)}`).join('; ');
    if (status >= 300 || operation.method === 'get')
      return [{ kind: 'refused request moved money', cause: `${status}`, detail }];
    const own = caller.via === 'api-key' || caller.role === 'user';
    if (own && changed.some((u) => u !== caller.userId))
      return [{ kind: "a user's request moved another user's money", cause: `${status}`, detail }];
    return [];
  }

  /** The logged error behind a 5xx (the answer itself rightly says nothing), for grouping by cause. */
  private causeOf5xx(answer: Answer): string {
    const id = answer.headers['x-request-id'];
    const line = this.t.logs.find((l) => l.includes(`"requestId":"${String(id)}"`) && l.includes('"err"'));
    const parsed = line ? (JSON.parse(line) as { err?: { type?: string; message?: string; code?: string } }) : {};
    const err = parsed.err;
    const message = err ? `${err.type ?? ''} ${err.code ?? ''} ${err.message ?? ''}` : `(no log line) ${answer.text}`;
    // Values differ between requests of one cause: keep the words.
    return `${answer.status} ${message
      .replace(/"[^"]*"/g, '"…"')
      .replace(/\d+/g, 'N')
      .slice(0, 200)}`;
  }

  /** Requests sent so far for an operation. */
  runsOf(id: string): number {
    const seen = this.seen.get(id);
    return [...(seen?.valid.values() ?? []), ...(seen?.invalid.values() ?? [])].reduce((a, b) => a + b, 0);
  }

  /** One line per operation: statuses answered to valid requests, then to invalid ones. */
  statusTable(): string {
    const fmt = (m: Map<number, number>) =>
      [...m.entries()]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(' ');
    return [...this.seen.entries()]
      .map(([id, { valid, invalid }]) => `${id.padEnd(42)} valid: ${fmt(valid).padEnd(40)} invalid: ${fmt(invalid)}`)
      .join('\n');
  }

  private count(id: string, valid: boolean, status: number): void {
    const entry = this.seen.get(id) ?? { valid: new Map(), invalid: new Map() };
    const map = valid ? entry.valid : entry.invalid;
    map.set(status, (map.get(status) ?? 0) + 1);
    this.seen.set(id, entry);
  }
}

/** A finding as the failure message shows it: what broke, how often, and the request to replay. */
export function formatFinding(f: Finding): string {
  const lines = [`${f.operation}: ${f.kind} — ${f.cause} (×${f.count})`];
  if (f.detail) lines.push(`  ${f.detail.slice(0, 500)}`);
  const auth = Object.keys(f.sent.headers).filter((h) => h !== 'Content-Type');
  lines.push(`  ${f.sent.method} ${f.sent.url.slice(0, 400)}  as ${f.sent.caller} [${auth.join(', ')}]`);
  if (f.sent.headers['Content-Type'] !== undefined) lines.push(`  Content-Type: ${f.sent.headers['Content-Type']}`);
  if (f.sent.body !== undefined) lines.push(`  body: ${JSON.stringify(f.sent.body.slice(0, 400))}`);
  if (f.status) lines.push(`  → ${f.status} ${f.answer.slice(0, 400)}`);
  return lines.join('\n');
}
