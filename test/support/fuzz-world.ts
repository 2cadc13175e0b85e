import jwt from 'jsonwebtoken';

import { type Role, roleSatisfies, SCOPES } from '../../src/auth/roles.js';
import { bearer, TEST_JWT_SECRET, type TestApp, token } from './app.js';
import { Ref } from './fuzz-arbitraries.js';
import type { AccessRule } from './fuzz-openapi.js';

/** Someone the fuzzer sends requests as: a JWT of a role, an API key, the internal key, or bad credentials. */
export interface Caller {
  label: string;
  headers: Record<string, string>;
  /** Valid credentials: the principal they authenticate. */
  userId?: string;
  role?: Role;
  via: 'jwt' | 'api-key' | 'internal' | 'bad' | 'none';
  scopes?: readonly string[];
}

/** Accounts the fuzzer owns (spec files share the database, so every money check is scoped to them). */
export const FUZZ_USERS = {
  user: 'fuzz-user-1',
  other: 'fuzz-user-2',
  supervisor: 'fuzz-supervisor',
  admin: 'fuzz-admin',
};
const ALL_USERS = Object.values(FUZZ_USERS);
const ROLE_OF: Record<string, Role> = {
  [FUZZ_USERS.user]: 'user',
  [FUZZ_USERS.other]: 'user',
  [FUZZ_USERS.supervisor]: 'supervisor',
  [FUZZ_USERS.admin]: 'admin',
};
const SEEDED_MODELS = [
  'anthropic.claude-3-sonnet-20240229-v1:0',
  'anthropic.claude-3-haiku-20240307-v1:0',
  'anthropic.claude-instant-v1',
  'amazon.titan-text-express-v1',
];
/** Models only the fuzzer prices: a rule it creates never changes another spec's prices. */
const OWN_MODELS = ['fuzz-model-1', 'fuzz-model-2'];
const INTERNAL_KEY = 'internal-test-key';

const jwtOf = (userId: string) => token({ sub: userId, role: ROLE_OF[userId] });

interface Owned {
  value: string;
  owner?: string;
}

/** Fixtures, the ids the service handed out (pools), and per-user money snapshots. */
export class FuzzWorld {
  readonly callers: Caller[] = [];
  private readonly pools = new Map<string, Owned[]>();
  private fresh = 0;

  private constructor(private readonly t: TestApp) {}

  static async create(t: TestApp): Promise<FuzzWorld> {
    const world = new FuzzWorld(t);
    await world.seed();
    return world;
  }

  private async request(method: 'get' | 'post' | 'delete', url: string, auth: Record<string, string>, body?: object) {
    const req = this.t.http[method](url).set(auth);
    const res = body ? await req.send(body) : await req;
    if (res.status >= 300) throw new Error(`fixture ${method} ${url} → ${res.status} ${res.text}`);
    return res.body as Record<string, unknown>;
  }

  private async seed(): Promise<void> {
    const admin = bearer(jwtOf(FUZZ_USERS.admin));
    for (const userId of ALL_USERS) {
      for (let i = 0; i < 2; i++) {
        await this.request('post', '/api/credits/allocate', admin, {
          userId,
          credits: 1_000_000_000,
          expiryDays: 365,
          email: `${userId}@example.com`,
          username: userId,
        });
      }
      // A small allocation the fuzzer may void; the big ones stay out of its reach.
      const voidable = await this.request('post', '/api/credits/allocate', admin, { userId, credits: 1000 });
      this.add('allocationId', String(voidable.id), userId);
      const auth = bearer(jwtOf(userId));
      for (let i = 0; i < 3; i++) {
        const session = await this.request('post', '/api/streaming-sessions/initialize', auth, {
          modelId: SEEDED_MODELS[i],
          estimatedTokens: 1000,
        });
        this.add('sessionId', String(session.sessionId), userId);
      }
      const key = await this.request('post', '/api/api-keys', auth, { name: 'fuzz-revocable' });
      this.add('apiKeyId', String(key.id), userId);
      this.add('apiKey', String(key.key), userId);
    }
    for (const userId of ALL_USERS) this.add('userId', userId, userId);
    this.add('userId', 'fuzz-nobody');
    for (const model of [...SEEDED_MODELS, ...OWN_MODELS, 'fuzz-unpriced']) this.add('modelId', model);
    for (const model of OWN_MODELS) this.add('ownModelId', model);
    await this.seedCallers();
  }

  private async seedCallers(): Promise<void> {
    for (const userId of ALL_USERS)
      this.callers.push({
        label: `jwt:${userId}`,
        headers: bearer(jwtOf(userId)),
        userId,
        role: ROLE_OF[userId],
        via: 'jwt',
      });
    const keyOf = async (userId: string, permissions: readonly string[]) => {
      const body = await this.request('post', '/api/api-keys', bearer(jwtOf(userId)), {
        name: `fuzz-caller ${permissions.join(' ')}`,
        permissions,
      });
      return String(body.key);
    };
    for (const [userId, scopes] of [
      [FUZZ_USERS.user, SCOPES],
      ...SCOPES.map((scope) => [FUZZ_USERS.user, [scope]] as const),
      [FUZZ_USERS.admin, SCOPES],
    ] as const) {
      const key = await keyOf(userId, scopes);
      this.callers.push({
        label: `api-key:${userId}:${scopes.length === SCOPES.length ? 'all' : scopes[0]}`,
        headers: { 'X-API-Key': key },
        userId,
        role: 'user',
        via: 'api-key',
        scopes,
      });
    }
    const revoked = await this.request('post', '/api/api-keys', bearer(jwtOf(FUZZ_USERS.user)), { name: 'revoked' });
    await this.request('delete', `/api/api-keys/${String(revoked.id)}`, bearer(jwtOf(FUZZ_USERS.user)));
    const sign = (claims: object, options: jwt.SignOptions = {}, secret = TEST_JWT_SECRET) =>
      jwt.sign({ type: 'access', ...claims }, secret, { algorithm: 'HS256', expiresIn: 3600, ...options });
    this.callers.push(
      { label: 'internal-key', headers: { 'X-Internal-Api-Key': INTERNAL_KEY }, via: 'internal' },
      { label: 'no credentials', headers: {}, via: 'none' },
      { label: 'bearer garbage', headers: { Authorization: 'Bearer garbage' }, via: 'bad' },
      { label: 'expired jwt', headers: bearer(sign({ sub: FUZZ_USERS.user }, { expiresIn: -60 })), via: 'bad' },
      {
        label: 'jwt wrong secret',
        headers: bearer(sign({ sub: FUZZ_USERS.admin, role: 'admin' }, {}, 'x'.repeat(40))),
        via: 'bad',
      },
      {
        label: 'refresh jwt',
        headers: bearer(sign({ sub: FUZZ_USERS.admin, type: 'refresh', role: 'admin' })),
        via: 'bad',
      },
      { label: 'jwt sub too long', headers: bearer(sign({ sub: 'fuzz-'.repeat(11), role: 'admin' })), via: 'bad' },
      {
        label: 'jwt alg none',
        headers: bearer(jwt.sign({ type: 'access', sub: FUZZ_USERS.admin, role: 'admin' }, '', { algorithm: 'none' })),
        via: 'bad',
      },
      { label: 'unknown api key', headers: { 'X-API-Key': 'acs_live_' + 'x'.repeat(43) }, via: 'bad' },
      { label: 'revoked api key', headers: { 'X-API-Key': String(revoked.key) }, via: 'bad' },
      { label: 'wrong internal key', headers: { 'X-Internal-Api-Key': 'internal-test-kez' }, via: 'bad' },
      {
        label: 'jwt unknown role',
        headers: bearer(token({ sub: FUZZ_USERS.other, role: 'root' })),
        userId: FUZZ_USERS.other,
        role: 'user',
        via: 'jwt',
      },
    );
  }

  /** May this caller use an operation with this rule (per the document)? */
  permits(caller: Caller, rule: AccessRule): boolean {
    if (rule.public) return true;
    if (caller.via === 'jwt') return rule.jwtRole !== null && roleSatisfies(caller.role!, rule.jwtRole);
    if (caller.via === 'api-key')
      return (
        rule.apiKeyScope !== undefined && (rule.apiKeyScope === 'any' || caller.scopes!.includes(rule.apiKeyScope))
      );
    if (caller.via === 'internal') return rule.internalKey;
    return false;
  }

  get users(): string[] {
    return ALL_USERS;
  }

  private add(pool: string, value: string, owner?: string): void {
    const entries = this.pools.get(pool) ?? [];
    if (entries.some((e) => e.value === value)) return;
    entries.push({ value, owner });
    // The newest ids are the most interesting (active sessions, unvoided allocations).
    if (entries.length > 60) entries.splice(0, entries.length - 60);
    this.pools.set(pool, entries);
  }

  /**
   * Replaces the request's Refs with ids from the pools: even picks prefer the caller's own objects,
   * odd picks take anyone's (so another user's object is tried too).
   */
  resolve(value: unknown, caller: Caller): unknown {
    if (value instanceof Ref) return this.pick(value, caller);
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, caller));
    // fast-check's records may have a null prototype; class instances (RawJson, RawUrl) stay as they are.
    if (value === null || typeof value !== 'object') return value;
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === null || proto === Object.prototype) {
      // fromEntries defines own properties: a `__proto__` key stays a key, as in the JSON sent.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v, caller)]));
    }
    return value;
  }

  private pick(ref: Ref, caller: Caller): string | undefined {
    if (ref.pool === 'freshSessionId') return `fuzz-session-${++this.fresh}`;
    if (ref.pool === 'freshModelId') {
      const model = `fuzz-model-new-${++this.fresh}`;
      this.add('modelId', model);
      return model;
    }
    const entries = this.pools.get(ref.pool) ?? (ref.pool.startsWith('cursor') ? [] : undefined);
    if (entries === undefined) throw new Error(`no pool ${ref.pool}`);
    const own = entries.filter((e) => e.owner === caller.userId);
    const from = ref.pick % 2 === 0 && own.length ? own : entries;
    if (from.length === 0) return undefined;
    return from[Math.floor(ref.pick / 2) % from.length].value;
  }

  /** Remembers ids an accepted answer handed out, so later requests reach those objects. */
  harvest(operationId: string, status: number, body: unknown): void {
    if (status >= 300 || body === null || typeof body !== 'object') return;
    const b = body as Record<string, unknown>;
    if (typeof b.nextCursor === 'string') {
      this.add(`cursor:${operationId}`, b.nextCursor);
      this.add('cursor', b.nextCursor);
    }
    const owner = typeof b.userId === 'string' ? b.userId : undefined;
    if (operationId.endsWith('_allocate') && typeof b.id === 'string') this.add('allocationId', b.id, owner);
    if (operationId.endsWith('_initialize') && typeof b.sessionId === 'string')
      this.add('sessionId', b.sessionId, owner);
    if (operationId === 'ApiKeysController_create' && typeof b.key === 'string') {
      this.add('apiKeyId', String(b.id), owner);
      this.add('apiKey', b.key, owner);
    }
  }

  /**
   * Each user's money as one comparable string: allocations (count, remaining, granted), ledger
   * (count, sum, last id), usage records (count, credits), open holds (count, outstanding), sessions.
   */
  async money(users: string[]): Promise<Map<string, string>> {
    const { rows } = await this.t.db.query<{ user_id: string; money: string }>(
      `SELECT u.user_id, concat_ws(' ',
          (SELECT concat_ws('/', count(*), sum(remaining_credits), sum(total_credits)) FROM credit_allocations a WHERE a.user_id = u.user_id),
          (SELECT concat_ws('/', count(*), sum(amount), max(id)) FROM credit_ledger l WHERE l.user_id = u.user_id),
          (SELECT concat_ws('/', count(*), sum(credits)) FROM usage_records r WHERE r.user_id = u.user_id),
          (SELECT concat_ws('/', count(*), sum(outstanding)) FROM credit_holds h WHERE h.user_id = u.user_id AND h.settled_at IS NULL),
          (SELECT concat_ws('/', count(*), count(*) FILTER (WHERE status = 'active')) FROM streaming_sessions s WHERE s.user_id = u.user_id)
        ) AS money
         FROM unnest($1::varchar[]) AS u(user_id)`,
      [users],
    );
    return new Map(rows.map((r) => [r.user_id, r.money]));
  }
}
