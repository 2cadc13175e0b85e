import { Body, Controller, Param } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { SELF_GRANT_MESSAGES } from '../../auth/access.js';
import { Auth, CurrentUser, RowReached, type Taken } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { commonErrorExamples, domainErrorExample } from '../../common/errors/error-examples.js';
import { ErrorResponseDto, UnprocessableResponseDto } from '../../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import type { CreateOutcome } from '../../idempotency/replayed-create.interceptor.js';
import { CorrectUsageDto, UsageCorrectionResponseDto } from '../dto/correction.dto.js';
import { CORRECTORS, UsageCorrectionsService } from './usage-corrections.service.js';

@ApiTags('usage')
@Controller('api/usage')
export class UsageCorrectionsController {
  constructor(private readonly corrections: UsageCorrectionsService) {}

  @IdempotentPost('records/:id/corrections', { replays: true })
  @Auth('user', { scope: 'usage:ingest', row: { of: 'usage-record', rule: CORRECTORS } })
  @ApiOperation({
    operationId: 'correctUsageRecord',
    summary: 'Correct what a usage record cost (supervisors, admins, service keys)',
    description:
      'Says what the record should have cost: `credits`, or counts (token kinds, `tokens`, `units`) priced with the ' +
      'record’s model at the rule and account price in force at its time, or `providerUsage`. The difference from ' +
      'its net credits moves now: less gives back (the open shortfall first, then the lots it was paid from, the ' +
      'last first, with their money; a lot expired or voided since → a new `correction` allocation), more is taken ' +
      'as a settlement’s overrun (balance, then overdraft, then a shortfall for review; never refused). The record ' +
      'never changes; its view shows netCredits, its last 10 corrections and correctionCount. A record takes at ' +
      'most CORRECTIONS_PER_RECORD (default 100) corrections (then 409 TOO_MANY_CORRECTIONS). A supervisor or admin ' +
      'JWT, or a service key (`usage:ingest`); the record’s own user gets 403, others 404. A supervisor may not ' +
      'correct downward a record of their own account or of an organisation they are a member of (403 ' +
      'SELF_GRANT_FORBIDDEN); admins may.',
  })
  @ApiParam({ name: 'id', format: 'uuid', example: '0193a8f0-1b2c-7d3e-8f4a-5b6c7d8e9f01' })
  @ApiBody({
    type: CorrectUsageDto,
    examples: {
      credits: {
        summary: 'What it should have cost, in credits',
        value: { correctionId: 'ticket-4711', reason: 'Charged twice for one answer', credits: 8 },
      },
      tokens: {
        summary: 'The counts it should have had, priced as at the record’s time',
        value: {
          correctionId: 'recount-2026-11-25',
          reason: 'The chat backend double-counted output tokens',
          inputTokens: 1000,
          outputTokens: 250,
        },
      },
    },
  })
  @ApiCreatedResponse({ type: UsageCorrectionResponseDto, description: 'Corrected (delta 0: nothing moved)' })
  @ApiOkResponse({
    type: UsageCorrectionResponseDto,
    description:
      'Replayed: the correctionId was used on this record before; the first answer, nothing moved, with `Idempotent-Replayed: true`',
  })
  @ApiBadRequestResponse({
    description: 'Invalid body: none or more than one way of saying the cost, counts for a record without a model',
    type: ErrorResponseDto,
  })
  @ApiNotFoundOf('Usage record', 'Unknown usage record, or one the caller may not see')
  @ApiForbiddenResponse({
    description:
      'An API key without `usage:ingest`; the record’s own user; a supervisor correcting downward a record of ' +
      'their own account or of an organisation they are a member of (SELF_GRANT_FORBIDDEN, nothing written; ' +
      'admins may)',
    type: ErrorResponseDto,
    examples: {
      ...commonErrorExamples(403, { post: true, scope: 'usage:ingest' }),
      selfGrant: domainErrorExample(
        'SELF_GRANT_FORBIDDEN',
        SELF_GRANT_MESSAGES.correction,
        'A supervisor lowering a record of their own account (admins may)',
      ),
    },
  })
  @ApiConflictResponse({
    description:
      'TOO_MANY_CORRECTIONS: the record has taken CORRECTIONS_PER_RECORD corrections, nothing written; or the same ' +
      'Idempotency-Key is still in progress',
    type: ErrorResponseDto,
    examples: {
      tooMany: domainErrorExample(
        'TOO_MANY_CORRECTIONS',
        'This record has taken its 100 corrections (CORRECTIONS_PER_RECORD)',
        'A record at CORRECTIONS_PER_RECORD corrections',
      ),
    },
  })
  @ApiUnprocessableEntityResponse({
    description:
      'The correctionId was used on this record with another body (or the Idempotency-Key with another request); ' +
      'PRICING_UNKNOWN_MODEL when counts are priced for a model without a rule then and PRICING_STRICT is on',
    type: UnprocessableResponseDto,
    examples: {
      reused: domainErrorExample(
        'CORRECTION_ID_REUSED',
        'This correctionId was already used with a different body',
        'correctionId reused with another body',
        { correctionId: 'ticket-4711' },
      ),
    },
  })
  correct(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: CorrectUsageDto,
    @RowReached() reached: Taken<boolean>,
  ): Promise<CreateOutcome<UsageCorrectionResponseDto>> {
    return this.corrections.correct(id, body, user, reached);
  }
}
