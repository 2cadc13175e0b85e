import type { BodyNamed } from '../../auth/auth.decorator.js';
import type { SimulationDto, SimulationResponseDto } from '../dto/simulations.dto.js';

/**
 * What POST /api/pricing/simulations asks: a range of usage records priced again under other rules.
 * The records are the usage module's, above pricing (every metered write is priced through pricing's
 * cache), so the composition root hands the simulator in (`SimulationRoutesModule.forRoot({ imports:
 * [UsageModule], use: SimulationsService })`).
 */
export interface PriceSimulator {
  /** `named`: the account the body names, as the access guard resolved it (null: none, so no records). */
  simulate(body: SimulationDto, named: BodyNamed): Promise<SimulationResponseDto>;
}
export const PRICE_SIMULATOR = Symbol('PRICE_SIMULATOR');
