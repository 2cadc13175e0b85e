import { applyDecorators, Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Put, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';

import { existingUser, type ResolvedAccount } from '../../auth/account-access.js';
import { Auth, type BodyNamed, CurrentUser, NamedAccount, NamedInBody } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { commonErrorExamples, domainErrorExample } from '../../common/errors/error-examples.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import {
  AutoRechargeAccountDto,
  AutoRechargeAttemptResponseDto,
  AutoRechargeResponseDto,
  FailAutoRechargeAttemptDto,
  PutAutoRechargeDto,
} from '../dto/auto-recharge.dto.js';
import { AUTO_RECHARGE_READERS, AUTO_RECHARGE_WRITERS, AutoRechargeService } from './auto-recharge.service.js';

const NOT_ALLOWED =
  'Another user’s account without supervisor (by JWT), or an organisation’s without being its manager (PUT) ' +
  'or reader (GET): `code` FORBIDDEN';

/** The refusals of reading and setting the settings: another's account, an unknown one. */
const SettingsRefusals = (op: { post: boolean; scope?: string }) =>
  applyDecorators(
    ApiForbiddenResponse({
      description: NOT_ALLOWED,
      type: ErrorResponseDto,
      examples: {
        ...commonErrorExamples(403, op),
        anotherUser: domainErrorExample(
          'FORBIDDEN',
          'Only supervisors and admins may read or set another user’s auto-recharge',
          'A user naming another user',
        ),
      },
    }),
    ApiNotFoundOf('User', 'Unknown user or organisation'),
  );

@ApiTags('credits')
@Controller('api/credits/auto-recharge')
export class AutoRechargeController {
  constructor(private readonly autoRecharge: AutoRechargeService) {}

  @Put()
  @Auth('user', { body: AUTO_RECHARGE_WRITERS })
  @ApiOperation({
    operationId: 'setAutoRecharge',
    summary: 'Set an account’s auto-recharge (supervisor, the user for their own, an org’s managers)',
    description:
      'Replaces the settings; the failures in a row are kept. While enabled, a charge that leaves the ' +
      'account’s available credits below `belowCredits` opens one attempt and emits `auto_recharge.requested`. ' +
      'The account’s own user and org managers set `minIntervalMinutes` ≥ 5 (staff any ≥ 0). Once it turned ' +
      'itself off after 3 failures in a row, only staff turn it back on (403 otherwise), with a fresh count.',
  })
  @ApiBody({
    type: PutAutoRechargeDto,
    examples: {
      user: {
        summary: '1,000 credits when below 100, at most 5,000 a month',
        value: { userId: 'alice', enabled: true, belowCredits: 100, rechargeCredits: 1000, maxCreditsPerMonth: 5000 },
      },
      org: {
        summary: 'An organisation, at most one attempt a day',
        value: { orgId: 'acme', enabled: true, belowCredits: 500, rechargeCredits: 5000, minIntervalMinutes: 1440 },
      },
      off: {
        summary: 'Off',
        value: { userId: 'alice', enabled: false, belowCredits: 100, rechargeCredits: 1000 },
      },
    },
  })
  @ApiOkResponse({ type: AutoRechargeResponseDto })
  @SettingsRefusals({ post: false })
  put(
    @CurrentUser() user: AuthUser,
    @Body() body: PutAutoRechargeDto,
    @NamedInBody() named: BodyNamed,
  ): Promise<AutoRechargeResponseDto> {
    return this.autoRecharge.put(user, body, named);
  }

  @Get()
  @Auth('user', { scope: 'credits:read', account: AUTO_RECHARGE_READERS, own: 'user' })
  @ApiOperation({
    operationId: 'getAutoRecharge',
    summary: 'An account’s auto-recharge settings and its recent attempts, newest first',
    description: 'Without userId or orgId: the caller’s own account. Never set: `enabled: false` with null figures.',
  })
  @ApiOkResponse({ type: AutoRechargeResponseDto })
  @SettingsRefusals({ post: false, scope: 'credits:read' })
  get(
    @Query() _query: AutoRechargeAccountDto,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<AutoRechargeResponseDto> {
    return this.autoRecharge.get(existingUser(account));
  }

  @IdempotentPost('attempts/:id/fail')
  @HttpCode(200)
  @Auth('user', { scope: 'usage:ingest' })
  @ApiOperation({
    operationId: 'failAutoRechargeAttempt',
    summary: 'Fail an open auto-recharge attempt: its payment could not be collected (service principal)',
    description:
      'After 3 failed attempts in a row auto-recharge turns itself off and emits `auto_recharge.disabled`. ' +
      'Failing a failed attempt again answers it and changes nothing.',
  })
  @ApiParam({ name: 'id', format: 'uuid', example: '0b8e4c2e-2f7a-4b4e-9d7c-5a1f3e6d8c90' })
  @ApiBody({
    type: FailAutoRechargeAttemptDto,
    required: false,
    examples: { declined: { summary: 'The card was declined', value: { reason: 'card_declined' } } },
  })
  @ApiOkResponse({ type: AutoRechargeAttemptResponseDto })
  @ApiForbiddenResponse({
    description: 'Not a service principal (an admin token, or an API key with usage:ingest): `code` FORBIDDEN',
    type: ErrorResponseDto,
    examples: {
      ...commonErrorExamples(403, { post: true, scope: 'usage:ingest' }),
      notService: domainErrorExample(
        'FORBIDDEN',
        'Only service principals (an admin token, or an API key with usage:ingest) may fail an auto-recharge attempt',
        'A user’s token or key',
      ),
    },
  })
  @ApiNotFoundOf('Auto-recharge attempt', 'Unknown attempt')
  @ApiConflictResponse({
    description: 'The attempt succeeded (its purchase was paid): `code` AUTO_RECHARGE_ATTEMPT_CLOSED',
    type: ErrorResponseDto,
    examples: {
      ...commonErrorExamples(409, { post: true }),
      closed: domainErrorExample(
        'AUTO_RECHARGE_ATTEMPT_CLOSED',
        'This auto-recharge attempt succeeded: it cannot fail',
        'The attempt’s purchase was paid',
      ),
    },
  })
  fail(
    @CurrentUser() user: AuthUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: FailAutoRechargeAttemptDto,
  ): Promise<AutoRechargeAttemptResponseDto> {
    return this.autoRecharge.fail(user, id, body.reason ?? null);
  }
}
