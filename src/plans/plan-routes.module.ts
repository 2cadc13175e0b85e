import { type DynamicModule, Module } from '@nestjs/common';

import { type Handed, handedRoutes } from '../common/handed-routes.js';
import { PLAN_GRANTS, type PlanGrants } from './plan-grants.js';
import { PlansController } from './plans.controller.js';
import { PlansModule } from './plans.module.js';

/**
 * The plan catalogue's routes (/api/plans). The check of a plan's grants is the features module's,
 * which imports plans, so the composition root hands it in (`PlanRoutesModule.forRoot({ imports:
 * [FeaturesModule], use: FeaturesService })`) and this folder imports none of it.
 */
@Module({})
export class PlanRoutesModule {
  static forRoot(grants: Handed<PlanGrants>): DynamicModule {
    return handedRoutes(PlanRoutesModule, [PlansController], PLAN_GRANTS, grants, [PlansModule]);
  }
}
