import { Module } from '@nestjs/common';

import { RunwayController } from './runway.controller.js';
import { RunwayRepository } from './runway.repository.js';
import { RunwayService } from './runway.service.js';

/** The runway read (docs/credits.md "Runway"): credits, plans and auto-recharge read together, nothing written. */
@Module({
  controllers: [RunwayController],
  providers: [RunwayService, RunwayRepository],
})
export class RunwayModule {}
