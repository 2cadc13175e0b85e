import { Module } from '@nestjs/common';

import { CreditsModule } from '../credits/credits.module.js';
import { FinanceController } from './finance.controller.js';
import { FinanceService } from './finance.service.js';

/** The finance reports (docs/finance.md): figures read through the credits module, no engine logic. */
@Module({
  imports: [CreditsModule],
  controllers: [FinanceController],
  providers: [FinanceService],
})
export class FinanceModule {}
