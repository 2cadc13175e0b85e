import type { SimulationDto, SimulationResponseDto } from '../dto/simulations.dto.js';

/**
 * What POST /api/pricing/simulations asks: a range of usage records priced again under other rules.
 * The records are the usage module's, above pricing (every metered write is priced through pricing's
 * cache), so the composition root hands the simulator in (`SimulationRoutesModule.forRoot({ imports:
 * [UsageModule], use: SimulationsService })`).
 */
export interface PriceSimulator {
  simulate(body: SimulationDto): Promise<SimulationResponseDto>;
}
export const PRICE_SIMULATOR = Symbol('PRICE_SIMULATOR');
