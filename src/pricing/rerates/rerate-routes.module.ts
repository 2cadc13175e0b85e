import { type DynamicModule, Module, type Type } from '@nestjs/common';

import { RERATE_DESK, type RerateDesk } from './rerate-desk.js';
import { ReratesController } from './rerates.controller.js';

/**
 * The re-rate routes (/api/pricing/rerates). Re-rates are the rerates module's, above pricing, so
 * the composition root hands its service in and this folder imports none of it.
 */
@Module({})
export class RerateRoutesModule {
  static forRoot(reader: { imports: Type[]; rerates: Type<RerateDesk> }): DynamicModule {
    return {
      module: RerateRoutesModule,
      imports: reader.imports,
      controllers: [ReratesController],
      providers: [{ provide: RERATE_DESK, useExisting: reader.rerates }],
    };
  }
}
