import { type DynamicModule, Module, type Type } from '@nestjs/common';

import { PRICE_SIMULATOR, type PriceSimulator } from './price-simulator.js';
import { SimulationsController } from './simulations.controller.js';

/**
 * The simulation's route (POST /api/pricing/simulations). Its simulator reads the usage records,
 * above pricing, so the composition root hands it in and this folder imports none of usage.
 */
@Module({})
export class SimulationRoutesModule {
  static forRoot(reader: { imports: Type[]; simulator: Type<PriceSimulator> }): DynamicModule {
    return {
      module: SimulationRoutesModule,
      imports: reader.imports,
      controllers: [SimulationsController],
      providers: [{ provide: PRICE_SIMULATOR, useExisting: reader.simulator }],
    };
  }
}
