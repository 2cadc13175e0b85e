import { createSecretKey } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/app-config.js';
import { AccountsService } from '../../users/accounts.service.js';
import { normaliseRole, type AuthUser } from './roles.js';

interface AccessTokenClaims {
  sub?: unknown;
  type?: unknown;
  exp?: unknown;
  role?: unknown;
  email?: unknown;
  username?: unknown;
}

const optionalString = (value: unknown, max: number): string | null =>
  typeof value === 'string' && value.length > 0 ? value.slice(0, max) : null;

/** Access tokens of the authentication service: HS256 only, `type: access`, `exp` and `sub` required. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly accounts: AccountsService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject, not the string: jsonwebtoken otherwise tries (and fails) to parse the string as a
      // public key on every verify, which cost a fifth of the CPU of an authenticated request.
      secretOrKey: createSecretKey(Buffer.from(config.jwt.secret, 'utf8')) as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  async validate(claims: AccessTokenClaims): Promise<AuthUser> {
    if (claims.type !== 'access') throw new UnauthorizedException('Not an access token');
    if (typeof claims.exp !== 'number') throw new UnauthorizedException('Token has no expiry');
    if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 50) {
      throw new UnauthorizedException('Token subject missing or invalid');
    }
    const user: AuthUser = {
      userId: claims.sub,
      role: normaliseRole(claims.role),
      email: optionalString(claims.email, 255),
      username: optionalString(claims.username, 255),
      via: 'jwt',
    };
    await this.accounts.syncFromToken(user);
    return user;
  }
}
