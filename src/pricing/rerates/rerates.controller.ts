import { Body, Controller, Get, HttpCode, Inject, Param, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { StaffRead } from '../../auth/staff-read.decorator.js';
import { domainErrorExample } from '../../common/errors/error-examples.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../../common/errors/not-found.decorator.js';
import { ApiHeavyReadsBusy } from '../../database/heavy-read-refusals.decorator.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import type { CreateOutcome } from '../../idempotency/replayed-create.interceptor.js';
import { CreateRerateDto, ListReratesQueryDto, RerateListResponseDto, RerateResponseDto } from '../dto/rerates.dto.js';
import { RERATE_DESK, type RerateDesk } from './rerate-desk.js';

/**
 * Re-rates (docs/pricing.md "Re-rating"): a simulation applied, one correction a record, by the
 * rerates module's service, which the composition root hands in (`RERATE_DESK`).
 */
@ApiTags('pricing')
@Controller('api/pricing/rerates')
export class ReratesController {
  constructor(@Inject(RERATE_DESK) private readonly rerates: RerateDesk) {}

  @IdempotentPost(undefined, { replays: true })
  @HttpCode(202)
  @Auth('admin')
  @ApiOperation({
    operationId: 'createRerate',
    summary: 'Correct a range of records to what other rules price them at (admin)',
    description:
      'Every record of [from, to) by occurredAt that the service priced from its counts, whose credits under the ' +
      'given rules (priced exactly as POST /api/pricing/simulations prices them) differ from its net credits, gets ' +
      'one correction `rerate:<rerateId>` with the reason. Records that named credits are left alone; the live ' +
      'rules do not change. Runs in the background (202; GET /api/pricing/rerates/{id} shows its progress), ' +
      'resumes after a restart, corrects no record twice. The same rerateId again: 200 with that re-rate. At most ' +
      '400 days (RANGE_TOO_LONG); a heavy read (429 HEAVY_READS_BUSY when HEAVY_READS_CONCURRENCY are running).',
  })
  @ApiBody({
    type: CreateRerateDto,
    examples: {
      haiku: {
        summary: 'November’s Haiku records at the price that should have applied',
        value: {
          rerateId: 'haiku-typo-2026-11',
          from: '2026-11-01T00:00:00.000Z',
          to: '2026-11-21T00:00:00.000Z',
          rules: [{ modelId: 'anthropic.claude-3-haiku-20240307-v1:0', pricePer1kTokens: '0.25' }],
          reason: 'Haiku input was priced at 2.5 instead of 0.25 from Nov 3',
        },
      },
    },
  })
  @ApiAcceptedResponse({ type: RerateResponseDto, description: 'The re-rate, started' })
  @ApiOkResponse({
    type: RerateResponseDto,
    description:
      'Replayed: the rerateId was used before with this body; that re-rate, with `Idempotent-Replayed: true`',
  })
  @ApiBadRequestResponse({
    description: 'Invalid body (to ≤ from, a rule invalid…); RANGE_TOO_LONG: more than 400 days',
    type: ErrorResponseDto,
  })
  @ApiUnprocessableEntityResponse({
    description: 'RERATE_ID_REUSED: the rerateId was used with another body',
    type: ErrorResponseDto,
    examples: {
      reused: domainErrorExample(
        'RERATE_ID_REUSED',
        'The rerateId haiku-typo-2026-11 was used with another body',
        'The same rerateId, other rules',
      ),
    },
  })
  @ApiHeavyReadsBusy()
  create(@CurrentUser() user: AuthUser, @Body() body: CreateRerateDto): Promise<CreateOutcome<RerateResponseDto>> {
    return this.rerates.start(user, body);
  }

  @Get()
  @StaffRead('supervisor', RerateListResponseDto, 'listRerates', 'The re-rates, newest first (supervisor)')
  list(@Query() query: ListReratesQueryDto): Promise<RerateListResponseDto> {
    return this.rerates.list(query);
  }

  @Get(':id')
  @Auth('supervisor')
  @ApiOperation({ operationId: 'getRerate', summary: 'One re-rate and its progress (supervisor)' })
  @ApiParam({ name: 'id', format: 'uuid', example: '0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a61' })
  @ApiOkResponse({ type: RerateResponseDto })
  @ApiNotFoundOf('Re-rate', 'Unknown re-rate')
  get(@Param('id') id: string): Promise<RerateResponseDto> {
    return this.rerates.get(id);
  }
}
