import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';

import type { AuthUser } from '../auth/roles.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { PORTAL_ROUTES, type PortalRoute } from './portal-routes.js';

type Session = NonNullable<AuthUser['portal']>;

const single = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Holds a portal token to its routes and its one account (global, after the access guard, which
 * already refuses staff routes and metering by role). Other callers pass untouched.
 */
@Injectable()
export class PortalAccessGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const session = (req.user as AuthUser | undefined)?.portal;
    if (!session) return true;
    const path = (req.route as { path?: unknown } | undefined)?.path;
    const route = typeof path === 'string' ? PORTAL_ROUTES[`${req.method} ${path}`] : undefined;
    if (!route) throw new DomainError('FORBIDDEN', 'A portal session cannot call this route');
    if (route.write && session.scope === 'read')
      throw new DomainError('FORBIDDEN', 'A read-only portal session cannot change anything');
    assertReach(route, session, (req.user as AuthUser).userId, req);
    return true;
  }
}

function assertReach(route: PortalRoute, session: Session, userId: string, req: Request): void {
  const query = req.query as Record<string, unknown>;
  const named = { userId: single(query.userId), orgId: single(query.orgId) };
  // "Another account" answers as it does to an outsider: 404, so account ids cannot be probed.
  switch (route.reach) {
    case 'user':
      if (session.orgId !== null || (named.userId !== undefined && named.userId !== userId)) {
        throw new NotFoundError('Account');
      }
      break;
    case 'org':
      if (req.params.orgId !== session.orgId) throw new NotFoundError('Org');
      break;
    case 'account': {
      const own =
        session.orgId === null
          ? named.orgId === undefined && (named.userId === undefined || named.userId === userId)
          : named.orgId === session.orgId && named.userId === undefined;
      if (!own) throw new NotFoundError('Account');
      break;
    }
    case 'any':
      break;
  }
  if (route.bodyOrg) {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const orgId = body.orgId === undefined ? null : body.orgId;
    if (orgId !== session.orgId) {
      throw new DomainError(
        'FORBIDDEN',
        session.orgId === null
          ? 'A portal session of a user acts for the user’s own account only'
          : `A portal session of organisation ${session.orgId} acts for that organisation only: name it as orgId`,
      );
    }
  }
}
