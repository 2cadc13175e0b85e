import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';

import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { isUuid } from '../common/validation/ids.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ACCOUNT_ACCESS, type AccountAccess, type ResolvedAccount } from './account-access.js';
import { accountView } from './account-views.js';
import {
  ACCESS_REFUSAL,
  AUTH_RULE,
  type AuthRule,
  BODY_ACCOUNT,
  BODY_MEMBER,
  BODY_SIDES,
  BODY_WRITE,
  type BodyResolution,
  NAMED_ERASED,
  OWN_ACCOUNT,
  OWN_WRITE,
  PORTAL_SESSION,
  RESOLVED_ACCOUNT,
  ROW_REACH,
  type Settled,
} from './auth.decorator.js';
import { assertMayMeter } from './metering.js';
import { type AuthUser, type Role, roleSatisfies } from './roles.js';
import { CachedReflector } from './route-metadata.js';
import { ROW_ACCOUNTS, type RowAccountReaders } from './row-accounts.js';

/** Routes without an explicit rule fall back to the strictest reading: any user, no API keys. */
const DEFAULT_RULE: AuthRule = { role: 'user' };

/** Global authorisation: role hierarchy for tokens, scopes for API keys. Runs after authentication. */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: CachedReflector,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'meteringTrust'>,
    @Inject(ACCOUNT_ACCESS)
    private readonly access: Pick<
      AccountAccess,
      'resolve' | 'admitPortal' | 'own' | 'erased' | 'forWrite' | 'portalSession' | 'account' | 'memberOf'
    >,
    @Inject(ROW_ACCOUNTS) private readonly rows: RowAccountReaders,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const rule =
      this.reflector.getAllAndOverride<AuthRule | undefined>(AUTH_RULE, [context.getHandler(), context.getClass()]) ??
      DEFAULT_RULE;
    const decided = this.decide(context, rule);
    if (!rule.session && !rule.bodyWrite && !rule.sides && !rule.bodyMember && !rule.row) return decided;
    const request = context
      .switchToHttp()
      .getRequest<Record<symbol, unknown> & { user: AuthUser; body?: unknown; params?: Record<string, unknown> }>();
    return Promise.resolve(decided).then(async (passed) => {
      if (rule.session) request[PORTAL_SESSION] = await settle(() => this.access.portalSession(request.user));
      if (rule.bodyWrite) {
        const orgId = bodyText(request, 'orgId');
        const need = rule.bodyWrite;
        // Read for an org, and for a portal token (held to its session's account); else no account.
        request[BODY_WRITE] =
          orgId !== undefined || request.user.portal
            ? await settle(() => this.access.forWrite(request.user, orgId, need))
            : { value: null };
      }
      if (rule.sides) request[BODY_SIDES] = await this.sides(request.user, request, rule.sides);
      const [userId, orgId] = [bodyText(request, 'userId'), bodyText(request, 'orgId')];
      if (rule.bodyMember && userId !== undefined && orgId !== undefined)
        request[BODY_MEMBER] = await settle(() => this.access.memberOf(orgId, userId));
      if (rule.row) request[ROW_REACH] = await this.row(request.user, request.params?.id, rule.row, rule.role);
      return passed;
    });
  }

  private decide(context: ExecutionContext, rule: AuthRule): boolean | Promise<boolean> {
    if (rule.public) return true;
    const request = context.switchToHttp().getRequest();
    const user = request.user as AuthUser | undefined;
    if (!user) throw new ForbiddenException('Not authenticated');
    // The erased among the users the request names, known in memory: a write answers them (NamedErased).
    (request as Record<symbol, unknown>)[NAMED_ERASED] = this.erasedNamed(user, request);
    // A portal token is a caller held to one account: the rule's option, decided before any role by
    // the one rule (other callers pass).
    const write = !['GET', 'HEAD'].includes(request.method as string) && !rule.changesNothing;
    this.access.admitPortal(user, rule.portal, () => portalTarget(request, rule), write);
    if (rule.meters) assertMayMeter(user, this.config.meteringTrust);

    if (user.via === 'api-key') {
      if (rule.role !== 'user' || rule.apiKeyScope === undefined) {
        throw new ForbiddenException('API keys cannot call this route');
      }
      const serviceKey = (rule.meters || rule.serviceKeys) && user.scopes?.includes('usage:ingest');
      if (rule.apiKeyScope !== 'any' && !serviceKey && !user.scopes?.includes(rule.apiKeyScope)) {
        throw new ForbiddenException(`API key lacks the scope ${rule.apiKeyScope}`);
      }
      return this.named(user, request, rule);
    }
    // A route naming an account answers 404 to whoever may not see it before any role is judged.
    if (rule.account || rule.own) return this.named(user, request, rule);
    if (!roleSatisfies(user.role, rule.role)) {
      throw new ForbiddenException(`Requires role ${rule.role}`);
    }
    return rule.body ? this.body(user, request, rule) : true;
  }

  /** The caller's own account (AccountAccess `own`), null when it has none yet. */
  private async ownOrNone(user: AuthUser): Promise<ResolvedAccount | null> {
    try {
      return await this.access.own(user);
    } catch (refusal) {
      if (refusal instanceof NotFoundError) return null;
      throw refusal;
    }
  }

  /**
   * The account each of the body's `sides` names: a user's as written (an erased user's: 409), an
   * org's as a staff write for it (`forWrite`: a missing org is NOT_A_MEMBER). A side naming neither
   * or both is bad input, which the service answers: nothing is read for it.
   */
  private async sides(
    user: AuthUser,
    request: { body?: unknown },
    sides: readonly string[],
  ): Promise<Record<string, Settled<ResolvedAccount | null>>> {
    const found: Record<string, Settled<ResolvedAccount | null>> = {};
    for (const side of sides) {
      const ref = { body: (request.body as Record<string, unknown> | undefined)?.[side] };
      const userId = bodyText(ref, 'userId');
      const orgId = bodyText(ref, 'orgId');
      if ((userId === undefined) === (orgId === undefined)) continue;
      found[side] = await settle(() =>
        userId !== undefined
          ? this.access.account({ kind: 'user', ownerId: userId }, 'write')
          : this.access.forWrite(user, orgId, { member: false }),
      );
    }
    return found;
  }

  /**
   * Whether the caller may reach the account of the row `id` names, read through the row owner's lookup
   * (ROW_ACCOUNTS) and resolved under the row's rule as the account a request names is: false when there
   * is no such row (an id that is no UUID names none), which the service answers as it does.
   */
  private async row(
    user: AuthUser,
    id: unknown,
    row: NonNullable<AuthRule['row']>,
    role: Role,
  ): Promise<Settled<boolean>> {
    const owner = typeof id === 'string' && isUuid(id) ? await this.rows[row.of].accountOfRow(id) : null;
    if (!owner) return { value: false };
    return settle(async () => {
      await this.access.resolve(user, accountView(owner.kind, owner.ownerId), row.rule, role);
      return true;
    });
  }

  /** The caller and the users the path, query or body name (`userId`, a body's `ownerUserId`) who were erased. */
  private erasedNamed(
    user: AuthUser,
    request: { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown },
  ): ReadonlySet<string> {
    const named = [
      user.userId,
      request.params?.userId,
      request.query?.userId,
      bodyText(request, 'userId'),
      bodyText(request, 'ownerUserId'),
    ];
    return new Set(named.filter((id): id is string => typeof id === 'string' && this.access.erased(id)));
  }

  /** The accounts the request names: in its path or query (or its own), then in its body. */
  private named(
    user: AuthUser,
    request: { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown },
    rule: AuthRule,
  ): boolean | Promise<boolean> {
    if (!rule.account && !rule.own) return rule.body ? this.body(user, request, rule) : true;
    if (!rule.body) return this.account(user, request, rule);
    return this.account(user, request, rule).then(() => this.body(user, request, rule));
  }

  /**
   * The account the body names under the route's `body` rule, resolved here for the handler
   * (NamedInBody), its refusal kept for the service to answer where it decides. A field that is not a
   * string names nothing: the validation pipe answers it.
   */
  private async body(user: AuthUser, request: { body?: unknown }, rule: AuthRule): Promise<boolean> {
    if (!rule.body) return true;
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<
      string,
      unknown
    >;
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const named = { userId: text(body.userId), orgId: text(body.orgId) };
    let found: BodyResolution;
    try {
      found = { account: await this.access.resolve(user, named, rule.body, rule.role) };
    } catch (refusal) {
      if (rule.bodyOrNone && refusal instanceof NotFoundError) {
        (request as Record<symbol, unknown>)[BODY_ACCOUNT] = { account: null } satisfies BodyResolution;
        return true;
      }
      // A route whose answer names a missing org otherwise keeps its own text (`orgNotFound`).
      const org = rule.orgNotFound && refusal instanceof NotFoundError && refusal.message === 'Org not found';
      found = { refusal: org ? new NotFoundError(rule.orgNotFound!) : refusal };
    }
    (request as Record<symbol, unknown>)[BODY_ACCOUNT] = found;
    return true;
  }

  /**
   * The caller's own account (null: none yet), for a route on an object found by its id (`alsoOwn`);
   * where the route's rule writes, that rule applied to it as well, its refusal kept (OwnWrite).
   */
  private async alsoOwn(user: AuthUser, request: object, rule: AuthRule): Promise<void> {
    const own = await this.ownOrNone(user);
    const found = request as Record<symbol, unknown>;
    found[OWN_ACCOUNT] = own;
    const writing = rule.account?.write ? rule.account : null;
    if (!writing) return;
    found[OWN_WRITE] = own
      ? await settle(() => this.access.resolve(user, accountView(own.kind, own.ownerId), writing, rule.role))
      : { value: null };
  }

  /**
   * The account the request names under the route's rule, else (`own`) the caller's own: resolved
   * here, once, for the handler (NamedAccount). Decided now, answered after validation
   * (AnswerAccess): bad input is a 400 whoever asks.
   */
  private async account(
    user: AuthUser,
    request: { params?: Record<string, unknown>; query?: Record<string, unknown> },
    rule: AuthRule,
  ): Promise<boolean> {
    const account = rule.account ?? {};
    const named = { userId: namedIn(request, 'userId'), orgId: namedIn(request, 'orgId') };
    const names = (account.org && named.orgId !== undefined) || (account.user && named.userId !== undefined);
    // No account named: the caller's own, or every account's (staff lists), behind the route's role.
    if (!names && !roleSatisfies(user.role, rule.role)) throw new ForbiddenException(`Requires role ${rule.role}`);
    if (!names && !rule.own && !rule.alsoOwn) return true;
    try {
      const resolved = names
        ? await this.access.resolve(user, named, account, rule.role)
        : rule.own
          ? await this.access.own(rule.own === 'user' ? { ...user, orgId: undefined } : user)
          : null;
      (request as Record<symbol, unknown>)[RESOLVED_ACCOUNT] = resolved;
      if (rule.alsoOwn && !resolved) await this.alsoOwn(user, request, rule);
    } catch (refusal) {
      // The caller's own account not made yet, on a route that reads none as nothing (`ownOrNone`).
      if (!names && rule.ownOrNone && refusal instanceof NotFoundError) return true;
      (request as Record<symbol, unknown>)[ACCESS_REFUSAL] = refusal;
    }
    return true;
  }
}

/** A string field of the request's body (else undefined: the validation pipe answers another type). */
function bodyText(request: { body?: unknown }, name: string): string | undefined {
  const value =
    typeof request.body === 'object' && request.body !== null
      ? (request.body as Record<string, unknown>)[name]
      : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** What `read` answers, or its refusal, kept for the handler to answer where it decides. */
async function settle<T>(read: () => Promise<T>): Promise<Settled<T>> {
  try {
    return { value: await read() };
  } catch (refusal) {
    return { refusal };
  }
}

/**
 * The account a request names for the portal's reach, by its kind and owner: by its account rule (an
 * org route's `orgId`, a user route's `userId`), else the query's `userId` or `orgId` (a route reading
 * the caller's own).
 */
function portalTarget(
  request: { params?: Record<string, unknown>; query?: Record<string, unknown> },
  rule: AuthRule,
): Pick<ResolvedAccount, 'kind' | 'ownerId'> | null {
  const userId = namedIn(request, 'userId');
  const orgId = namedIn(request, 'orgId');
  const account = rule.account;
  if (orgId !== undefined && (!account || account.org)) return { kind: 'org', ownerId: orgId };
  if (userId !== undefined && (!account || account.user)) return { kind: 'user', ownerId: userId };
  return null;
}

/** The account a request names in its path, else its query (a repeated query field is refused). */
function namedIn(request: { params?: Record<string, unknown>; query?: Record<string, unknown> }, name: string) {
  const value = request.params?.[name] ?? request.query?.[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new DomainError('VALIDATION', `${name} must be given once`);
}
