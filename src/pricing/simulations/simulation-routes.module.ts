import { type DynamicModule, Module } from '@nestjs/common';

import { type Handed, handedRoutes } from '../../common/handed-routes.js';
import { PRICE_SIMULATOR, type PriceSimulator } from './price-simulator.js';
import { SimulationsController } from './simulations.controller.js';

/**
 * The simulation's route (POST /api/pricing/simulations). Its simulator reads the usage records,
 * above pricing, so the composition root hands it in and this folder imports none of usage.
 */
@Module({})
export class SimulationRoutesModule {
  static forRoot(simulator: Handed<PriceSimulator>): DynamicModule {
    return handedRoutes(SimulationRoutesModule, [SimulationsController], PRICE_SIMULATOR, simulator);
  }
}
