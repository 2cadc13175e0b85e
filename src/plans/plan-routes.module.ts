import { type DynamicModule, Module, type Type } from '@nestjs/common';

import { PLAN_GRANTS, type PlanGrants } from './plan-grants.js';
import { PlansController } from './plans.controller.js';
import { PlansModule } from './plans.module.js';

/**
 * The plan catalogue's routes (/api/plans). The check of a plan's grants is the features module's,
 * which imports plans, so the composition root hands it in (`PlanRoutesModule.forRoot({ imports:
 * [FeaturesModule], grants: FeaturesService })`) and this folder imports none of it.
 */
@Module({})
export class PlanRoutesModule {
  static forRoot(reader: { imports: Type[]; grants: Type<PlanGrants> }): DynamicModule {
    return {
      module: PlanRoutesModule,
      imports: [PlansModule, ...reader.imports],
      controllers: [PlansController],
      providers: [{ provide: PLAN_GRANTS, useExisting: reader.grants }],
    };
  }
}
