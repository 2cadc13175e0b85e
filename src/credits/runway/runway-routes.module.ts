import { type DynamicModule, Module } from '@nestjs/common';

import { type Handed, handedRoutes } from '../../common/handed-routes.js';
import { RunwayController } from './runway.controller.js';
import { RUNWAY_PROJECTION, type RunwayProjection } from './runway-projection.js';

/**
 * The runway's route (`GET /api/credits/runway`). The projection is the runway module's, so the
 * composition root hands it in (`RunwayRoutesModule.forRoot({ imports: [RunwayModule], use:
 * RunwayService })`) and this folder imports none of it.
 */
@Module({})
export class RunwayRoutesModule {
  static forRoot(projection: Handed<RunwayProjection>): DynamicModule {
    return handedRoutes(RunwayRoutesModule, [RunwayController], RUNWAY_PROJECTION, projection);
  }
}
