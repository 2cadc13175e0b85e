import { type DynamicModule, Global, Module, type Type } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';

import { ACCOUNT_ACCESS, type AccountAccess } from './account-access.js';
import { ACCOUNT_SYNC, type AccountSync, JwtStrategy } from './jwt.strategy.js';
import { CachedReflector } from './route-metadata.js';

/**
 * Passport strategies behind the global AuthenticationGuard (API keys register theirs in
 * ApiKeysModule), and the CachedReflector the guards read route rules with: global, for guards
 * built in other modules too (InternalOrAdminGuard).
 *
 * The accounts the JWT strategy keeps in sync are handed down by the composition root
 * and the one resolver that applies the access rule (`AuthModule.forRoot({ imports: [AccountsModule,
 * PromotionsModule], accountSync: SignupAccountSync, accountAccess: AccountResolver })`): every feature
 * imports auth (roles, `@Auth()`), so auth imports none of them (docs/architecture.md "Layers").
 */
@Global()
@Module({})
export class AuthModule {
  static forRoot(accounts: {
    imports: Type[];
    accountSync: Type<AccountSync>;
    accountAccess: Type<AccountAccess>;
  }): DynamicModule {
    return {
      module: AuthModule,
      imports: [PassportModule, ...accounts.imports],
      providers: [
        JwtStrategy,
        CachedReflector,
        { provide: ACCOUNT_SYNC, useExisting: accounts.accountSync },
        { provide: ACCOUNT_ACCESS, useExisting: accounts.accountAccess },
      ],
      exports: [CachedReflector, ACCOUNT_ACCESS],
    };
  }
}
