import { applyDecorators, Body, Controller, Get, HttpCode, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { StaffRead } from '../auth/staff-read.decorator.js';
import { StaffUserRoute } from '../auth/staff-user-route.decorator.js';
import { domainErrorExample, unknownModelExample } from '../common/errors/error-examples.js';
import {
  ErrorResponseDto,
  SettlementConflictResponseDto,
  UnprocessableResponseDto,
} from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { ApiSpendRefusedResponse } from '../common/errors/payment-required.decorator.js';
import { PageQueryDto } from '../common/http/pagination.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import { providerUsageExamples } from '../pricing/dto/provider-usage.dto.js';
import { kindExamples } from '../pricing/dto/token-kinds.dto.js';
import { AbortSessionDto, FinalizeSessionDto, InitializeSessionDto } from './dto/session-requests.dto.js';
import {
  AbortResponseDto,
  FinalizeResponseDto,
  SessionListResponseDto,
  SessionResponseDto,
} from './dto/session-responses.dto.js';
import { SessionQueriesService } from './session-queries.service.js';
import { StreamingSessionsService } from './streaming-sessions.service.js';

const RETRY_NOTE =
  'Safe to retry: the same request on a settled session answers the same settlement again and moves nothing; ' +
  'a different amount (or termination, or counts given another way), or another route, on a settled session → 409. ' +
  'Instead of the counts, `providerUsage` gives the provider’s own usage object, mapped to the token kinds by the ' +
  'service; `termination` says how the stream ended. Both are kept on the session’s usage record.';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';

/** The refusals of a settlement (finalize, abort): a bad body, an unknown session, a settled one, an unknown model. */
const SettlementRefusals = () =>
  applyDecorators(
    ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid body' }),
    ApiNotFoundOf('Session', 'Unknown session, or another user’s'),
    ApiConflictResponse({
      type: SettlementConflictResponseDto,
      description: 'Already settled differently (ALREADY_SETTLED)',
      examples: {
        alreadySettled: domainErrorExample(
          'ALREADY_SETTLED',
          'Session chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21 is already completed',
          'Settled before with another request (finalize after abort, another amount)',
          { sessionId: 'chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21', status: 'completed' },
        ),
      },
    }),
    ApiUnprocessableEntityResponse({
      type: UnprocessableResponseDto,
      description: 'Unknown model while PRICING_STRICT is on',
      examples: unknownModelExample,
    }),
  );

@ApiTags('streaming-sessions')
@Controller('api/streaming-sessions')
export class StreamingSessionsController {
  constructor(
    private readonly sessions: StreamingSessionsService,
    private readonly active: SessionQueriesService,
  ) {}

  @IdempotentPost('initialize')
  @Auth('user', { scope: 'sessions:write', meters: true })
  @ApiOperation({
    operationId: 'initializeSession',
    summary: 'Start a streaming session: hold ceil(estimatedCredits × 6/5) credits',
    description:
      'Prices the estimate at the model’s current rule and holds 120 % of it (rounded up) from the allocations that ' +
      'expire soonest. The session is settled by finalize or abort, or expired (charged its estimate) after ' +
      'STREAMING_SESSION_TTL_SECONDS.',
  })
  @ApiBody({
    type: InitializeSessionDto,
    examples: {
      byEstimate: {
        summary: 'The chat backend’s service key opens a session for a user, with an estimated token count',
        value: {
          userId: 'alice',
          sessionId: 'chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21',
          modelId: MODEL,
          estimatedTokens: 2000,
        },
      },
      byInputOutput: {
        summary: 'Estimated input and output tokens',
        value: {
          userId: 'alice',
          sessionId: 'chat-2b4e6d8f-0a1c-4e3b-8d5f-7a9c1e3b5d70',
          modelId: MODEL,
          inputTokens: 1200,
          outputTokens: 800,
        },
      },
      generatedId: {
        summary: 'Let the service choose the sessionId (an admin token without userId: the admin’s own account)',
        value: { modelId: MODEL, estimatedTokens: 500 },
      },
      // The estimate by token kind: the hold is priced at each kind's price (sessionId chosen by the service).
      ...kindExamples((modelId, tokens) => ({ userId: 'alice', modelId, ...tokens })),
    },
  })
  @ApiCreatedResponse({ type: SessionResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid body' })
  @ApiSpendRefusedResponse('nothing was written')
  @ApiNotFoundOf('User', 'The billed user a service principal named has no account; nothing was written')
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'The user already used this sessionId (ids are per user: another user’s never conflicts)',
    examples: {
      sessionIdTaken: domainErrorExample(
        'SESSION_EXISTS',
        'Session chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21 already exists',
        'The sessionId is already used',
      ),
    },
  })
  @ApiUnprocessableEntityResponse({
    type: UnprocessableResponseDto,
    description: 'Unknown model while PRICING_STRICT is on',
    examples: unknownModelExample,
  })
  initialize(@CurrentUser() user: AuthUser, @Body() dto: InitializeSessionDto): Promise<SessionResponseDto> {
    return this.sessions.initialize(user, dto);
  }

  @IdempotentPost('finalize')
  @HttpCode(200)
  @Auth('user', { scope: 'sessions:write', meters: true })
  @ApiOperation({
    operationId: 'finalizeSession',
    summary: 'Settle a session at its real token count',
    description:
      'Charges the real tokens at the price in effect when the session started. Unused held credits go back to the ' +
      'allocations they were held from (same expiry); an overrun is taken from the balance, and what the balance ' +
      `cannot pay is reported as shortfall (usage record billingStatus needs_review). ${RETRY_NOTE}`,
  })
  @ApiBody({
    type: FinalizeSessionDto,
    examples: {
      byActualTokens: {
        summary: 'The real token count',
        value: { userId: 'alice', sessionId: 'chat-7f3c2a9e-1b4d-4c1e-9f8a-2d6b5e4c3a21', actualTokens: 1850 },
      },
      byInputOutput: {
        summary: 'Real input and output tokens',
        value: {
          userId: 'alice',
          sessionId: 'chat-2b4e6d8f-0a1c-4e3b-8d5f-7a9c1e3b5d70',
          inputTokens: 1200,
          outputTokens: 700,
        },
      },
      // The real counts by token kind, priced at the session's rule (its model is the session's).
      ...kindExamples((_modelId, tokens) => ({
        userId: 'alice',
        sessionId: `chat-kinds-${Object.keys(tokens).join('-')}`,
        ...tokens,
      })),
      // The provider's usage object read from the finished stream, mapped to the kinds by the service.
      ...providerUsageExamples((_modelId, providerUsage, name) => ({
        userId: 'alice',
        sessionId: `chat-${name}`,
        providerUsage,
        termination: 'completed',
      })),
      failedStream: {
        summary: 'The stream failed (still charged for its tokens)',
        value: { sessionId: 'chat-9d1f3b5a-7c2e-4a6d-8b0f-2e4c6a8d0b13', actualTokens: 400, success: false },
      },
    },
  })
  @ApiOkResponse({ type: FinalizeResponseDto })
  @SettlementRefusals()
  finalize(@CurrentUser() user: AuthUser, @Body() dto: FinalizeSessionDto): Promise<FinalizeResponseDto> {
    return this.sessions.finalize(user, dto);
  }

  @IdempotentPost('abort')
  @HttpCode(200)
  @Auth('user', { scope: 'sessions:write', meters: true })
  @ApiOperation({
    operationId: 'abortSession',
    summary: 'Settle a session cut off early, charging the tokens generated so far',
    description: `tokensGenerated defaults to 0. The rest of the hold goes back to its allocations. ${RETRY_NOTE}`,
  })
  @ApiBody({
    type: AbortSessionDto,
    examples: {
      cutOff: {
        summary: 'Cut off after 300 tokens (charged)',
        value: { userId: 'alice', sessionId: 'chat-5e8a0c2d-4f6b-4d8a-9c1e-3b5d7f9a1c24', tokensGenerated: 300 },
      },
      nothingGenerated: {
        summary: 'Cancelled before any token (tokensGenerated defaults to 0)',
        value: { sessionId: 'chat-1c7b9d3f-5a2e-4c8b-a0d6-4f8b2d6e0a35' },
      },
      // The counts used before the cut-off by token kind, priced at the session's rule.
      ...kindExamples((_modelId, tokens) => ({
        userId: 'alice',
        sessionId: `chat-cut-off-${Object.keys(tokens).join('-')}`,
        ...tokens,
      })),
      // Stopped by the consumer after the provider had reported its usage so far.
      ...providerUsageExamples((_modelId, providerUsage, name) => ({
        userId: 'alice',
        sessionId: `chat-cut-off-${name}`,
        providerUsage,
        termination: 'client_abort',
      })),
      upstreamError: {
        summary: 'The provider failed before any usage was reported (no counts: recorded as estimated)',
        value: {
          userId: 'alice',
          sessionId: 'chat-3e5a7c9b-1d2f-4a6c-8e0b-5d7f9b1c3e46',
          termination: 'upstream_error',
        },
      },
    },
  })
  @ApiOkResponse({ type: AbortResponseDto })
  @SettlementRefusals()
  abort(@CurrentUser() user: AuthUser, @Body() dto: AbortSessionDto): Promise<AbortResponseDto> {
    return this.sessions.abort(user, dto);
  }

  @Get('active')
  @Auth('user', { scope: 'sessions:read', portal: 'own' })
  @ApiOperation({ operationId: 'listActiveSessions', summary: 'The caller’s active sessions, oldest first' })
  @ApiOkResponse({ type: SessionListResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid limit or cursor' })
  mine(@CurrentUser() user: AuthUser, @Query() page: PageQueryDto): Promise<SessionListResponseDto> {
    return this.active.listActive({ ...page, userId: user.userId });
  }

  // Declared before `active/:userId`, which would otherwise take "all" for a user id.
  @Get('active/all')
  @StaffRead('admin', SessionListResponseDto, 'listAllActiveSessions', 'Every active session, oldest first')
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid limit or cursor' })
  all(@Query() page: PageQueryDto): Promise<SessionListResponseDto> {
    return this.active.listActive(page);
  }

  @Get('active/:userId')
  @StaffUserRoute('supervisor')
  @ApiOperation({ operationId: 'listUserActiveSessions', summary: 'One user’s active sessions, oldest first' })
  @ApiOkResponse({ type: SessionListResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid limit or cursor' })
  ofUser(@Param('userId') userId: string, @Query() page: PageQueryDto): Promise<SessionListResponseDto> {
    return this.active.listActive({ ...page, userId });
  }
}
