import { type DynamicModule, Global, Module, type Type } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';

import { ORG_STANDING, type OrgStandingReader } from './account-access.js';
import { ACCOUNT_SYNC, type AccountSync, JwtStrategy } from './jwt.strategy.js';
import { CachedReflector } from './route-metadata.js';

/**
 * Passport strategies behind the global AuthenticationGuard (API keys register theirs in
 * ApiKeysModule), and the CachedReflector the guards read route rules with: global, for guards
 * built in other modules too (InternalOrAdminGuard).
 *
 * The accounts the JWT strategy keeps in sync are handed down by the composition root
 * and the org standings the access rule reads (`AuthModule.forRoot({ imports: [AccountsModule],
 * accountSync: AccountsService, orgStanding: AccountsService })`): every feature
 * imports auth (roles, `@Auth()`), so auth imports none of them (docs/architecture.md "Layers").
 */
@Global()
@Module({})
export class AuthModule {
  static forRoot(accounts: {
    imports: Type[];
    accountSync: Type<AccountSync>;
    orgStanding: Type<OrgStandingReader>;
  }): DynamicModule {
    return {
      module: AuthModule,
      imports: [PassportModule, ...accounts.imports],
      providers: [
        JwtStrategy,
        CachedReflector,
        { provide: ACCOUNT_SYNC, useExisting: accounts.accountSync },
        { provide: ORG_STANDING, useExisting: accounts.orgStanding },
      ],
      exports: [CachedReflector, ORG_STANDING],
    };
  }
}
