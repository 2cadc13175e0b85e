import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';

import { AccountsModule } from '../users/accounts.module.js';
import { JwtStrategy } from './jwt.strategy.js';

/** Passport strategies behind the global AuthenticationGuard. API keys register theirs in ApiKeysModule. */
@Module({ imports: [PassportModule, AccountsModule], providers: [JwtStrategy] })
export class AuthModule {}
