import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtension,
  ApiForbiddenResponse,
  ApiSecurity,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import { ErrorResponseDto, ForbiddenResponseDto, RetryLaterResponseDto } from '../common/errors/error-response.dto.js';
import { currentRequest } from '../common/logging/logger.js';
import {
  type AccountRule,
  type PortalReach,
  type ResolvedAccount,
  staffRoleOf,
  type WriteNeed,
} from './account-access.js';
import type { AuthUser, Role, Scope } from './roles.js';
import type { AccountRow } from './row-accounts.js';

export const AUTH_RULE = 'accounting:auth-rule';
export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'api-key';
/** `X-Internal-Api-Key`: service-to-service, only for POST /api/api-keys/verify. */
export const INTERNAL_API_KEY_SCHEME = 'internal-api-key';
/** OpenAPI extension naming the scope an API key needs for an operation (absent: keys refused). */
export const REQUIRED_SCOPE_EXTENSION = 'x-required-scope';
/** OpenAPI extension holding the account rule of a route that names an account (account-access.ts). */
export const ACCOUNT_ACCESS_EXTENSION = 'x-account-access';
/** OpenAPI extension saying what a portal token may do on an operation (absent: refused, 403). */
export const PORTAL_EXTENSION = 'x-portal';

export interface AuthRule {
  public?: true;
  /** Lowest role that may call the route (user < supervisor < admin). */
  role: Role;
  /** Scope an API key needs; `any` lets every valid key in; absent: API keys are refused. */
  apiKeyScope?: Scope | 'any';
  /**
   * A metering write (record, batch, initialize, finalize, abort): under METERING_TRUST=service only
   * service principals may call it; a service key's `usage:ingest` stands for the scope.
   */
  meters?: true;
  /** A service key (`usage:ingest`) stands for the scope here too (the feature check). */
  serviceKeys?: true;
  /** The route names an account (`userId`, `orgId`): who sees it and who may use the route on it. */
  account?: AccountRule;
  /** What a portal token may do here (account-access.ts `PortalReach`); absent: refused. */
  portal?: PortalReach;
  /** A POST that changes nothing (a check, a quote): a `read` portal session may call it too. */
  changesNothing?: true;
  /**
   * The route acts on the caller's own account when it names none: the access guard resolves it and
   * hands it to the handler as NamedAccount, so no service resolves an owner. `user`: the caller's
   * user account whatever the credential; `account`: the caller's own (a portal session's, an org
   * key's org, else the user's: AccountAccess `own`).
   */
  own?: OwnReach;
  /** With `own`: the caller's own account may not exist yet; the handler takes null rather than a 404. */
  ownOrNone?: true;
  /**
   * Where the account the route names is none (it names none, or a user names themself before their
   * account exists), the caller's own as well, for a service that falls back on it (OwnAccount; null:
   * none yet): an object found by its own id (a budget). On a route whose account rule writes, that
   * rule applied to the caller's own account too, its refusal kept for the service to answer once the
   * object is found (OwnWrite).
   */
  alsoOwn?: true;
  /**
   * The route names an account in its body (`userId`, `orgId`): the access guard resolves it under
   * this rule and hands it to the handler (BodyNamed), whose service takes it where it decides, so
   * the body's own checks answer first and no service resolves the owner.
   */
  body?: AccountRule;
  /**
   * With `body`: the name a 404 of the body's org answers (default the rule's `Org`), where a route's
   * answer names it otherwise (an account price's `Organisation`).
   */
  orgNotFound?: string;
  /**
   * With `body`: a read that answers nothing for an owner without an account (a simulation's records):
   * a 404 is null rather than a refusal.
   */
  bodyOrNone?: true;
  /**
   * The route writes for the org its body names (`orgId`), else the caller's own, under this need (the
   * resolver's `forWrite`: an org that does not exist, or one the caller must and does not belong to,
   * is 403 NOT_A_MEMBER): resolved here for the handler (WriteInBody) when the body names an org or the
   * caller holds a portal token, its refusal kept for the service to answer where it decides.
   */
  bodyWrite?: WriteNeed;
  /** The caller's portal session, read here for the handler (PortalSessionOf). */
  session?: true;
  /**
   * The org the body names (`orgId`) with its `userId` as an active member (the resolver's `memberOf`:
   * else 403 NOT_A_MEMBER), read here when the body names both (MemberInBody), its refusal kept.
   */
  bodyMember?: true;
  /**
   * The body's fields naming an account each (`{userId}` or `{orgId}`: a transfer's `from` and `to`),
   * resolved here for the handler (SidesInBody): a user's account as written (null: none; an erased
   * user's: 409), an org's under the resolver's `forWrite` for a staff write (a missing org: 403
   * NOT_A_MEMBER), each refusal kept for the service to answer where it decides.
   */
  sides?: readonly string[];
  /**
   * The route acts on a row the path's `id` names (a usage record, a purchase), which is the request's
   * only name for its account: the access guard reads the row's account through its owner's lookup
   * (ROW_ACCOUNTS) and applies `rule` to it, for the handler (RowReached), its refusal kept for the
   * service to answer once it has found the row.
   */
  row?: { of: AccountRow; rule: AccountRule };
}

/** Which own account a route acts on when it names none (AuthRule `own`). */
export type OwnReach = 'user' | 'account';

/** Where the access guard leaves the account rule's refusal for AnswerAccess. */
export const ACCESS_REFUSAL = Symbol('ACCESS_REFUSAL');
/** Where the access guard leaves the account it resolved (ResolvedAccount) for the handler. */
export const RESOLVED_ACCOUNT = Symbol('RESOLVED_ACCOUNT');
/** Where the access guard leaves the caller's own account (AuthRule `alsoOwn`; null: none). */
export const OWN_ACCOUNT = Symbol('OWN_ACCOUNT');
/** Where the access guard leaves the caller's own account under a writing rule, or its refusal (AuthRule `alsoOwn`). */
export const OWN_WRITE = Symbol('OWN_WRITE');
/** Where the access guard leaves the account a body names, or its refusal (AuthRule `body`). */
export const BODY_ACCOUNT = Symbol('BODY_ACCOUNT');
/** Where the access guard leaves the account a body's write is for, or its refusal (AuthRule `bodyWrite`). */
export const BODY_WRITE = Symbol('BODY_WRITE');
/** Where the access guard leaves an org with the body's user as its member, or the refusal (AuthRule `bodyMember`). */
export const BODY_MEMBER = Symbol('BODY_MEMBER');
/** Where the access guard leaves the caller's portal session, or its refusal (AuthRule `session`). */
export const PORTAL_SESSION = Symbol('PORTAL_SESSION');
/** Where the access guard leaves the accounts a body's sides name, or their refusals (AuthRule `sides`). */
export const BODY_SIDES = Symbol('BODY_SIDES');
/** Where the access guard leaves whether the caller may reach a row's account, or the refusal (AuthRule `row`). */
export const ROW_REACH = Symbol('ROW_REACH');
/** Where the access guard leaves the erased users among those the request names (NamedErased). */
export const NAMED_ERASED = Symbol('NAMED_ERASED');

/**
 * Answers the access guard's refusal of a route naming an account (404 / 403) once the validation
 * pipe has passed the request, just before the handler: a malformed request is a 400 to everyone,
 * and nothing of the route runs for a refused caller. Keeps the handler's own metadata.
 */
function AnswerAccess(): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const handler = descriptor.value as (...args: unknown[]) => unknown;
    const answered = function (this: unknown, ...args: unknown[]) {
      const refusal = (currentRequest() as Record<symbol, unknown> | undefined)?.[ACCESS_REFUSAL];
      if (refusal) throw refusal;
      return handler.apply(this, args);
    };
    for (const key of Reflect.getMetadataKeys(handler))
      Reflect.defineMetadata(key, Reflect.getMetadata(key, handler), answered);
    Object.defineProperty(answered, 'name', { value: handler.name });
    descriptor.value = answered;
    return descriptor;
  };
}

/** No authentication: the only way out of the global guard. */
export function Public(): MethodDecorator & ClassDecorator {
  return SetMetadata(AUTH_RULE, { public: true, role: 'user' } satisfies AuthRule);
}

/**
 * A route's whole access rule in one place: who may call it, which API-key scope it needs, and the
 * matching OpenAPI security and 401/403 documentation, so docs and enforcement cannot drift apart.
 */
export function Auth(
  role: Role = 'user',
  /** The rule's options as AuthRule names them, an API key's scope as `scope`. */
  options: Omit<AuthRule, 'public' | 'role' | 'apiKeyScope'> & { scope?: Scope | 'any' } = {},
) {
  const { scope, ...given } = options;
  const rule: AuthRule = { role, apiKeyScope: role === 'user' ? scope : undefined, ...given };
  const keysAllowed = rule.apiKeyScope !== undefined;
  const who = options.account
    ? accountWho(options.account, role)
    : role === 'user'
      ? 'any authenticated caller'
      : `role ${role} or higher`;
  const keys = keysAllowed
    ? rule.apiKeyScope === 'any'
      ? 'API keys: any valid key.'
      : `API keys: scope \`${rule.apiKeyScope}\`${options.serviceKeys ? ' (or a service key, `usage:ingest`)' : ''}.`
    : 'API keys: not accepted.';
  const metering = options.meters
    ? ' With METERING_TRUST=service (the default), only service principals (an admin token, or an API key with ' +
      '`usage:ingest`) may call it: anyone else gets `METERING_REQUIRES_SERVICE`.'
    : '';
  return applyDecorators(
    ...(options.account || options.own ? [AnswerAccess()] : []),
    SetMetadata(AUTH_RULE, rule),
    ApiBearerAuth(BEARER_SCHEME),
    ...(keysAllowed ? [ApiSecurity(API_KEY_SCHEME), ApiExtension(REQUIRED_SCOPE_EXTENSION, rule.apiKeyScope)] : []),
    ...(options.account
      ? [ApiExtension(ACCOUNT_ACCESS_EXTENSION, { ...options.account, staff: staffRoleOf(options.account, role) })]
      : []),
    ...(options.portal ? [ApiExtension(PORTAL_EXTENSION, options.portal)] : []),
    ApiUnauthorizedResponse({ description: 'Missing, invalid or expired credentials', type: ErrorResponseDto }),
    ApiForbiddenResponse({ description: `Requires ${who}. ${keys}${metering}`, type: ForbiddenResponseDto }),
    ApiTooManyRequestsResponse({ description: 'Rate limited; see Retry-After', type: RetryLaterResponseDto }),
  );
}

/** Who may use a route naming an account, as its 403 says (the role names the staff role). */
function accountWho(account: AccountRule, role: Role): string {
  const staff = staffRoleOf(account, role);
  const others = [
    account.user === 'holder' ? 'the user themself' : null,
    account.org && account.org !== 'staff' ? `the org's ${account.org}s and above` : null,
    account.services ? 'service principals' : null,
  ].filter(Boolean);
  // Worded without "role <name>" unless a role refusal can happen: the document's common 403
  // examples are derived from that phrase (document-rules.ts adds the account rule's own).
  const base = `staff from ${staff} up on any account`;
  return `${others.length ? `${others.join(', ')}, or ` : ''}${base} (a caller who may not see the account gets 404)`;
}

/**
 * The account the route names in its path or query, as the access guard resolved it under the route's
 * account rule, else the caller's own on a route that acts on it (`own`); null: none. Handlers take
 * it instead of resolving the owner again.
 */
export const NamedAccount = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): ResolvedAccount | null =>
    (ctx.switchToHttp().getRequest() as Record<symbol, ResolvedAccount | undefined>)[RESOLVED_ACCOUNT] ?? null,
);

/** The caller's own account as the access guard resolved it (AuthRule `alsoOwn`); null: none. */
export const OwnAccount = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): ResolvedAccount | null =>
    (ctx.switchToHttp().getRequest() as Record<symbol, ResolvedAccount | null | undefined>)[OWN_ACCOUNT] ?? null,
);

/**
 * The account a request's body names, as the access guard resolved it under the route's `body` rule
 * (AuthRule): `take()` answers it (null: the body names none, or the owner it names has no account)
 * or throws the rule's refusal (404 / 403, an erased user's 409 on a write), where the service
 * decides, after the body's own checks, as a resolution of its own did.
 */
export interface BodyNamed {
  take(): ResolvedAccount | null;
}

/** What a caller that is no route takes (a service called directly): asking it is a programming error. */
export const NO_BODY_RULE: BodyNamed = {
  take: () => {
    throw new Error('No body account: the route declares no `body` rule');
  },
};

export const NamedInBody = createParamDecorator((_data: unknown, ctx: ExecutionContext): BodyNamed => {
  const found = (ctx.switchToHttp().getRequest() as Record<symbol, BodyResolution | undefined>)[BODY_ACCOUNT];
  if (!found) return NO_BODY_RULE;
  return {
    take: () => {
      if ('refusal' in found) throw found.refusal;
      return found.account;
    },
  };
});

/** What the access guard leaves for NamedInBody: the account, or the refusal to answer. */
export type BodyResolution = { account: ResolvedAccount | null } | { refusal: unknown };

/** What the access guard read for a handler, or the refusal the handler answers where it decides. */
export type Settled<T> = { value: T } | { refusal: unknown };

/** A value the access guard read, handed to a service: `take()` answers it or throws its refusal. */
export interface Taken<T> {
  take(): T;
}

const taken = <T>(found: Settled<T> | undefined, what: string): Taken<T> => ({
  take: () => {
    if (!found) throw new Error(`No ${what}: the route declares no rule for it`);
    if ('refusal' in found) throw found.refusal;
    return found.value;
  },
});

/**
 * The caller's own account under the route's writing rule (AuthRule `alsoOwn`): `take()` answers it
 * (null: none yet) or throws the rule's refusal (404 / 403, an erased user's 409), where the service
 * decides, once the object it writes is found in that account.
 */
export const OwnWrite = createParamDecorator((_data: unknown, ctx: ExecutionContext): Taken<ResolvedAccount | null> =>
  taken((ctx.switchToHttp().getRequest() as Record<symbol, Settled<ResolvedAccount | null>>)[OWN_WRITE], 'own write'),
);

/**
 * The account a write's body is for (AuthRule `bodyWrite`): the org it names, else the caller's own
 * (only read for a portal token; otherwise `take()` answers null), as the resolver's `forWrite` decides.
 */
export const WriteInBody = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Taken<ResolvedAccount | null> =>
    taken(
      (ctx.switchToHttp().getRequest() as Record<symbol, Settled<ResolvedAccount | null>>)[BODY_WRITE],
      'body write',
    ),
);

/** The accounts a body's sides name, by field, as the access guard read them (AuthRule `sides`). */
export const SidesInBody = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): ((side: string) => Taken<ResolvedAccount | null>) => {
    const found = (ctx.switchToHttp().getRequest() as Record<symbol, Record<string, Settled<ResolvedAccount | null>>>)[
      BODY_SIDES
    ];
    return (side) => taken(found?.[side], `body side ${side}`);
  },
);

/** The org the body names with its user as an active member (AuthRule `bodyMember`). */
export const MemberInBody = createParamDecorator((_data: unknown, ctx: ExecutionContext): Taken<ResolvedAccount> =>
  taken((ctx.switchToHttp().getRequest() as Record<symbol, Settled<ResolvedAccount>>)[BODY_MEMBER], 'body member'),
);

/**
 * Whether the caller may reach the account of the row the path's `id` names, as the access guard
 * decided under the route's `row` rule: `take()` answers true, or false when the guard found no such row
 * (the service's own 404), or throws the rule's refusal (404 / 403, an erased user's 409 on a write),
 * where the service decides once it has found the row, as a resolution of its own did.
 */
export const RowReached = createParamDecorator((_data: unknown, ctx: ExecutionContext): Taken<boolean> =>
  taken((ctx.switchToHttp().getRequest() as Record<symbol, Settled<boolean>>)[ROW_REACH], 'row'),
);

/** The caller's portal session with its account (AuthRule `session`; null: no portal token). */
export type PortalSessionRead = (ResolvedAccount & { sessionId: string; scope: 'full' | 'read' }) | null;

/** The caller's portal session as the access guard read it (AuthRule `session`). */
export const PortalSessionOf = createParamDecorator((_data: unknown, ctx: ExecutionContext): Taken<PortalSessionRead> =>
  taken(
    (ctx.switchToHttp().getRequest() as Record<symbol, Settled<PortalSessionRead>>)[PORTAL_SESSION],
    'portal session',
  ),
);

/**
 * The users the request names (the caller; `userId` of the path, query or body; a body's
 * `ownerUserId`) whose person was erased (docs/erasure.md), as the access guard read them: a write
 * naming one answers 409 ACCOUNT_ERASED where its service decides.
 */
export const NamedErased = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): ReadonlySet<string> =>
    (ctx.switchToHttp().getRequest() as Record<symbol, ReadonlySet<string> | undefined>)[NAMED_ERASED] ?? new Set(),
);

/** The authenticated caller (set by the global authentication guard). */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthUser => {
  return ctx.switchToHttp().getRequest().user as AuthUser;
});
