import { type DynamicModule, Module } from '@nestjs/common';

import { type Handed, handedRoutes } from '../../common/handed-routes.js';
import { RERATE_DESK, type RerateDesk } from './rerate-desk.js';
import { ReratesController } from './rerates.controller.js';

/**
 * The re-rate routes (/api/pricing/rerates). Re-rates are the rerates module's, above pricing, so
 * the composition root hands its service in and this folder imports none of it.
 */
@Module({})
export class RerateRoutesModule {
  static forRoot(rerates: Handed<RerateDesk>): DynamicModule {
    return handedRoutes(RerateRoutesModule, [ReratesController], RERATE_DESK, rerates);
  }
}
