import { Global, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';

import { AccountsModule } from '../accounts/accounts.module.js';
import { JwtStrategy } from './jwt.strategy.js';
import { CachedReflector } from './route-metadata.js';

/**
 * Passport strategies behind the global AuthenticationGuard (API keys register theirs in
 * ApiKeysModule), and the CachedReflector the guards read route rules with: global, for guards
 * built in other modules too (InternalOrAdminGuard).
 */
@Global()
@Module({
  imports: [PassportModule, AccountsModule],
  providers: [JwtStrategy, CachedReflector],
  exports: [CachedReflector],
})
export class AuthModule {}
