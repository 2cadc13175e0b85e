import { expect } from 'vitest';

import type { Role, Scope } from '../../src/auth/roles.js';
import { bearer, type TestApp, token, uniqueId } from './app.js';

/**
 * The one place specs get their users, credits, tokens and API keys from, and read balances and the
 * ledger back (after immich's `ctx.newUser()` factories). Everything is made through the public API,
 * as a caller would, so a fixture never writes a row the service could not have written:
 *
 *   const users: string[] = [];
 *   beforeAll(async () => { t = await startTestApp(); f = new Fixtures(t, { users }); });
 *   const u = await f.newUser({ credits: [12, { credits: 8, expiryDays: 2 }] });
 */

/** Credits granted in one allocation: an amount (30 days), or the allocate body's own fields. */
export type Grant = number | { credits: number; expiryDays?: number; expiresAt?: string; notes?: string };

/** A caller: id, token and its Authorization header. No request has been made for it yet. */
export interface Principal {
  id: string;
  jwt: string;
  auth: { Authorization: string };
}

/** A user with an account (its first request made) and the allocations granted to it. */
export interface FixtureUser extends Principal {
  allocationIds: string[];
}

export interface Allocation {
  id: string;
  userId: string;
  totalCredits: number;
  remainingCredits: number;
  allocatedBy: string;
  allocatedAt: string;
  expiresAt: string;
  notes: string | null;
}

export interface CreatedApiKey {
  id: string;
  userId: string;
  name: string;
  key: string;
  prefix: string;
  permissions: Scope[];
  isActive: boolean;
  expiresAt: string | null;
}

export interface LedgerRow {
  id: string;
  allocation_id: string;
  kind: string;
  amount: number;
  session_id: string | null;
  usage_record_id: string | null;
}

/** A token for `role`, with a fresh user id unless `sub` is given. */
export const tokenFor = (role: Role, sub: string = uniqueId(role)): string => token({ sub, role });

/** A fresh feature key (lower case, digits, `_`, `.` and `-`, as the catalogue allows) starting with `prefix`. */
export const featureKey = (prefix: string): string =>
  uniqueId(prefix)
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, '');

/** A caller of `role` (default user) without an account yet. */
export function principal(role: Role = 'user', prefix = 'u'): Principal {
  const id = uniqueId(prefix);
  const jwt = token({ sub: id, role });
  return { id, jwt, auth: bearer(jwt) };
}

export interface FixtureOptions {
  /** Token that grants credits (default: an admin of the fixtures); allocatedBy names its `sub`. */
  granter?: string;
  /** Receives the id of every user made (unless `track: false`), for the spec's invariant checks. */
  users?: string[];
  /** Prefix of the user ids, so a spec's users are recognisable in the database. */
  prefix?: string;
}

export class Fixtures {
  /** The ids of the users made so far (the `users` option, when given). */
  readonly users: string[];
  private readonly granter: { Authorization: string };
  private readonly prefix: string;

  constructor(
    private readonly t: Pick<TestApp, 'http' | 'db'>,
    options: FixtureOptions = {},
  ) {
    this.users = options.users ?? [];
    this.granter = bearer(options.granter ?? tokenFor('admin', 'fixtures-admin'));
    this.prefix = options.prefix ?? 'u';
  }

  /**
   * A user whose account exists (made by its first request, GET /api/users/me) with one allocation
   * per grant. `track: false` keeps it out of `users` (e.g. when a spec writes rows for it by SQL).
   */
  async newUser(options: { credits?: Grant | Grant[]; role?: Role; track?: boolean } = {}): Promise<FixtureUser> {
    const user = principal(options.role, this.prefix);
    if (options.track !== false) this.users.push(user.id);
    await this.t.http.get('/api/users/me').set(user.auth).expect(200);
    const grants =
      options.credits === undefined ? [] : Array.isArray(options.credits) ? options.credits : [options.credits];
    const allocationIds: string[] = [];
    for (const g of grants) allocationIds.push((await this.grant(user.id, g)).id);
    return { ...user, allocationIds };
  }

  /** Grants credits through POST /api/credits/allocate; fails the test unless it is a 201. */
  async grant(userId: string, grant: Grant): Promise<Allocation> {
    const res = await this.allocate(userId, typeof grant === 'number' ? { credits: grant } : grant);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  /** POST /api/credits/allocate as the granter, unchecked (for specs of the route itself). */
  allocate(userId: string, body: Record<string, unknown>) {
    return this.t.http
      .post('/api/credits/allocate')
      .set(this.granter)
      .send({ userId, ...body });
  }

  /** Creates an API key for `owner` (every scope unless `permissions` says otherwise). */
  async apiKey(
    owner: Pick<Principal, 'auth'>,
    body: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): Promise<CreatedApiKey> {
    const res = await this.t.http
      .post('/api/api-keys')
      .set(owner.auth)
      .set(headers)
      .send({ name: 'test key', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  /** POST /api/usage/record as `user`: a chat completion of `credits`, with an Idempotency-Key when given; unchecked. */
  recordUsage(user: Pick<Principal, 'auth'>, credits: number, idempotencyKey?: string) {
    const req = this.t.http.post('/api/usage/record').set(user.auth);
    if (idempotencyKey !== undefined) req.set('Idempotency-Key', idempotencyKey);
    return req.send({ service: 'chat', operation: 'completion', credits });
  }

  /** Credits the user can spend now: unexpired allocations' remaining credits (read by SQL). */
  async available(userId: string): Promise<number> {
    const { rows } = await this.t.db.query(
      `SELECT COALESCE(SUM(remaining_credits), 0)::bigint::text AS n FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND expires_at > now()`,
      [userId],
    );
    return Number(rows[0].n);
  }

  /** The user's ledger entries, oldest first. */
  async ledger(userId: string): Promise<LedgerRow[]> {
    const { rows } = await this.t.db.query(
      `SELECT id, allocation_id, kind, amount, session_id, usage_record_id FROM credit_ledger WHERE member_id = $1 ORDER BY id`,
      [userId],
    );
    return rows;
  }

  /** The usage records written for a streaming session. */
  async usageRecordsOf(sessionId: string) {
    const { rows } = await this.t.db.query(
      `SELECT id, user_id, service, operation, credits, model_id, tokens, metadata, billing_status, pricing_rule_id
         FROM usage_records WHERE metadata->>'sessionId' = $1`,
      [sessionId],
    );
    return rows;
  }
}
