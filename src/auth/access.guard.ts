import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';

import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ACCOUNT_ACCESS, type AccountAccess, type ResolvedAccount } from './account-access.js';
import {
  ACCESS_REFUSAL,
  AUTH_RULE,
  type AuthRule,
  BODY_ACCOUNT,
  type BodyResolution,
  RESOLVED_ACCOUNT,
} from './auth.decorator.js';
import { assertMayMeter } from './metering.js';
import { type AuthUser, roleSatisfies } from './roles.js';
import { CachedReflector } from './route-metadata.js';

/** Routes without an explicit rule fall back to the strictest reading: any user, no API keys. */
const DEFAULT_RULE: AuthRule = { role: 'user' };

/** Global authorisation: role hierarchy for tokens, scopes for API keys. Runs after authentication. */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: CachedReflector,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'meteringTrust'>,
    @Inject(ACCOUNT_ACCESS) private readonly access: Pick<AccountAccess, 'resolve' | 'admitPortal' | 'own'>,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const rule =
      this.reflector.getAllAndOverride<AuthRule | undefined>(AUTH_RULE, [context.getHandler(), context.getClass()]) ??
      DEFAULT_RULE;
    if (rule.public) return true;
    const request = context.switchToHttp().getRequest();
    const user = request.user as AuthUser | undefined;
    if (!user) throw new ForbiddenException('Not authenticated');
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
      found = { refusal };
    }
    (request as Record<symbol, unknown>)[BODY_ACCOUNT] = found;
    return true;
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
    if (!names && !rule.own) return true;
    try {
      (request as Record<symbol, unknown>)[RESOLVED_ACCOUNT] = names
        ? await this.access.resolve(user, named, account, rule.role)
        : await this.access.own(rule.own === 'user' ? { ...user, orgId: undefined } : user);
    } catch (refusal) {
      // The caller's own account not made yet, on a route that reads none as nothing (`ownOrNone`).
      if (!names && rule.ownOrNone && refusal instanceof NotFoundError) return true;
      (request as Record<symbol, unknown>)[ACCESS_REFUSAL] = refusal;
    }
    return true;
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
