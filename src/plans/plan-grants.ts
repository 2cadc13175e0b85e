import type { FeatureGrantCheck } from './plans.service.js';

/**
 * The check of a plan's `features` that the plan catalogue's routes hand `PlansService.create()` and
 * `update()`: each grant names a feature of the features module's catalogue. Features sits above
 * plans (a feature check reads a plan's grants), so the composition root hands it in
 * (`PlanRoutesModule.forRoot({ imports: [FeaturesModule], use: FeaturesService })`).
 */
export interface PlanGrants {
  readonly grantCheck: FeatureGrantCheck;
}
export const PLAN_GRANTS = Symbol('PLAN_GRANTS');
