import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';

import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { AccountRule, ResolvedAccount } from '../auth/account-access.js';
import type { BodyNamed, PortalSessionRead, Taken } from '../auth/auth.decorator.js';
import { isServicePrincipal } from '../auth/metering.js';
import { type AuthUser, endUserKeyScopes } from '../auth/roles.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import type {
  CreatePortalSessionDto,
  CurrentPortalSessionResponseDto,
  PortalSessionResponseDto,
} from './dto/portal-session.dto.js';
import { PortalSessionsRepository } from './portal-sessions.repository.js';
import { generatePortalToken, hashPortalToken, looksLikePortalToken, portalUrl } from './portal-token.js';

export const DEFAULT_PORTAL_TTL_SECONDS = 900;

export const SERVICE_PRINCIPALS_ONLY =
  'Only service principals (an admin token, or an API key with usage:ingest) may open or end portal sessions';

/** Minting, ending and authenticating portal sessions. */
/**
 * Whose portal session a service principal mints: any user's (the route's `body` rule; an erased
 * person's is 409 ACCOUNT_ERASED). An org's is decided as the session is minted (`memberOf()`).
 */
export const SESSION_USERS: AccountRule = { user: 'staff', services: true, write: true };

@Injectable()
export class PortalSessionsService {
  constructor(
    private readonly sessions: PortalSessionsRepository,
    private readonly transactions: Transactions,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'publicUrl' | 'portal' | 'meteringTrust' | 'gateway'>,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ApiKeysService) private readonly keys: ApiKeysService,
  ) {}

  /**
   * `named`: the user's account the body names, as the access guard resolved it (SESSION_USERS);
   * `member`: the org the body names with that user as an active member, as it read it.
   */
  async create(
    caller: AuthUser,
    dto: CreatePortalSessionDto,
    named: BodyNamed,
    member: Taken<ResolvedAccount>,
  ): Promise<PortalSessionResponseDto> {
    assertServicePrincipal(caller);
    return this.transactions.run(async (manager) => {
      // An erased person gets no session (it would mint keys for them): 409 ACCOUNT_ERASED.
      const own = named.take();
      if (!own) throw new NotFoundError('User');
      // An org's session is for one of its active members (else 403 NOT_A_MEMBER): the one access rule,
      // which answers the org's account with the user as its member. The session reaches that account.
      const account = dto.orgId === undefined ? own : member.take();
      const token = generatePortalToken();
      const ttl = dto.ttlSeconds ?? DEFAULT_PORTAL_TTL_SECONDS;
      const session = {
        userId: dto.userId,
        orgId: dto.orgId ?? null,
        scope: dto.scope ?? 'full',
        createdBy: caller.userId,
        createdByKeyId: caller.apiKeyId ?? null,
      };
      const expiry = new Date(this.clock.now() + ttl * 1000);
      const { id, expiresAt } = await this.sessions.insert(manager, {
        account,
        scope: session.scope,
        createdBy: session.createdBy,
        createdByKeyId: session.createdByKeyId,
        tokenHash: hashPortalToken(token),
        expiresAt: expiry,
      });
      // The entry's actor is the service principal (its key, if any) that minted it; never the token.
      const after = { id, ...session, expiresAt: expiresAt.toISOString() };
      await this.audit.record(manager, {
        action: 'portal.session.create',
        targetId: id,
        before: null,
        after,
        whoever: true,
      });
      return { id, url: portalUrl(this.config.publicUrl, token), token, expiresAt: expiresAt.toISOString() };
    });
  }

  async end(caller: AuthUser, id: string): Promise<void> {
    assertServicePrincipal(caller);
    // The keys made in the session die with it (docs/portal.md "Keys made in the portal").
    const ended = await this.transactions.run(async (manager) => {
      if (!(await this.sessions.end(manager, id, new Date(this.clock.now())))) return false;
      await this.keys.revokePortalSessionKeys(manager, id);
      return true;
    });
    if (!ended) throw new NotFoundError('Portal session');
  }

  /**
   * The caller's own portal session (a portal token's), else 404: no other caller has one. `read`: the
   * session and its account as the access guard read them under the one rule (the user's org role now).
   */
  async current(read: Taken<PortalSessionRead>): Promise<CurrentPortalSessionResponseDto> {
    const session = read.take();
    const found = session && (await this.sessions.current(this.transactions.statementManager, session.sessionId));
    if (!session || !found) throw new NotFoundError('Portal session');
    return {
      id: session.sessionId,
      ...found,
      orgRole: session.kind === 'org' ? session.memberRole : null,
      scope: session.scope,
      expiresAt: found.expiresAt.toISOString(),
      buyUrl: this.config.portal.buyUrl,
      keyScopes: endUserKeyScopes(this.config.meteringTrust, this.config.gateway.upstreams.length > 0),
    };
  }

  /**
   * The caller a portal token stands for, or null when the bearer is no portal token (the JWT
   * strategy then reads it). A portal token that is unknown, ended or expired is a 401 here.
   */
  async authenticate(bearer: string | undefined): Promise<AuthUser | null> {
    if (bearer === undefined || !bearer.startsWith('acp_')) return null;
    const found = looksLikePortalToken(bearer)
      ? await this.sessions.lookup(
          this.transactions.statementManager,
          hashPortalToken(bearer),
          new Date(this.clock.now()),
        )
      : null;
    if (!found || found.over) throw new UnauthorizedException('This portal session has ended or expired');
    return found.caller;
  }
}

function assertServicePrincipal(caller: AuthUser): void {
  if (!isServicePrincipal(caller)) {
    throw new DomainError('FORBIDDEN', SERVICE_PRINCIPALS_ONLY);
  }
}
