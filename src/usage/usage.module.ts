import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { PricingModule } from '../pricing/pricing.module.js';
import { AccountsModule } from '../users/accounts.module.js';
import { UsageRecord } from './entities/usage-record.entity.js';
import { UsageController } from './usage.controller.js';
import { UsageService } from './usage.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([UsageRecord]), PricingModule, AccountsModule],
  controllers: [UsageController],
  providers: [UsageService],
  exports: [UsageService],
})
export class UsageModule {}
