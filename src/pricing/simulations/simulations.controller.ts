import { Body, Controller, HttpCode, Inject } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { AccountRule } from '../../auth/account-access.js';
import { Auth, type BodyNamed, NamedInBody } from '../../auth/auth.decorator.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { ApiHeavyReadRefusals } from '../../database/heavy-read-refusals.decorator.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import { SimulationDto, SimulationResponseDto } from '../dto/simulations.dto.js';
import { PRICE_SIMULATOR, type PriceSimulator } from './price-simulator.js';

/**
 * Simulations (docs/pricing.md "Simulations"): a pricing question answered over the usage records, by
 * the simulator the composition root hands in (`PRICE_SIMULATOR`, the usage module's).
 */
/** The account whose records a simulation prices again (its body's `orgId`, else `userId`): any, for staff. */
const SIMULATED_ACCOUNTS: AccountRule = { user: 'staff', org: 'staff' };

@ApiTags('pricing')
@Controller('api/pricing')
export class SimulationsController {
  constructor(@Inject(PRICE_SIMULATOR) private readonly simulations: PriceSimulator) {}

  @IdempotentPost('simulations')
  @Auth('supervisor', { body: SIMULATED_ACCOUNTS, bodyOrNone: true })
  @HttpCode(200)
  @ApiOperation({
    operationId: 'simulatePricing',
    summary: 'What a range of records would have cost under other rules; writes nothing (supervisor)',
    description:
      'Every record of [from, to) that the service priced is priced again as if the given rules had been in force ' +
      'for their models (its account price still applies), with live pricing’s rounding, in one SQL pass. Records ' +
      'that named credits, were priced at the default price, or whose model has no rule here count as billed. ' +
      'At most 400 days (RANGE_TOO_LONG). A heavy read: at most HEAVY_READS_CONCURRENCY at once (429 beyond), ' +
      'stopped after HEAVY_READ_TIMEOUT_SECONDS (503 TIMEOUT).',
  })
  @ApiBody({
    type: SimulationDto,
    examples: {
      haiku: {
        summary: 'Last month with a cheaper Haiku, by model',
        value: {
          from: '2026-10-01T00:00:00.000Z',
          to: '2026-11-01T00:00:00.000Z',
          rules: [{ modelId: 'anthropic.claude-3-haiku-20240307-v1:0', pricePer1kTokens: '0.2' }],
          groupBy: 'model',
        },
      },
    },
  })
  @ApiOkResponse({ type: SimulationResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body (to ≤ from, a rule invalid…); RANGE_TOO_LONG: more than 400 days',
    type: ErrorResponseDto,
  })
  @ApiHeavyReadRefusals()
  simulate(@Body() body: SimulationDto, @NamedInBody() named: BodyNamed): Promise<SimulationResponseDto> {
    return this.simulations.simulate(body, named);
  }
}
