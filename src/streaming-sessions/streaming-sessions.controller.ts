import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ApiCreditChargeResponses } from '../common/errors/credit-charge-responses.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { PageQueryDto } from '../common/http/pagination.js';
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
  'a different amount, or another route, on a settled session → 409.';

@ApiTags('streaming-sessions')
@Controller('api/streaming-sessions')
export class StreamingSessionsController {
  constructor(
    private readonly sessions: StreamingSessionsService,
    private readonly active: SessionQueriesService,
  ) {}

  @Post('initialize')
  @Auth('user', { scope: 'sessions:write' })
  @ApiOperation({
    summary: 'Start a streaming session: hold ceil(estimatedCredits × 6/5) credits',
    description:
      'Prices the estimate at the model’s current rule and holds 120 % of it (rounded up) from the allocations that ' +
      'expire soonest. The session is settled by finalize or abort, or expired (charged its estimate) after ' +
      'STREAMING_SESSION_TTL_SECONDS.',
  })
  @ApiCreditChargeResponses(SessionResponseDto, {
    badRequest: 'Invalid body',
    paymentRequired: 'Not enough credits for the hold; nothing was written',
    conflict: 'The sessionId is already used',
    unprocessable: 'Unknown model while PRICING_STRICT is on',
  })
  initialize(@CurrentUser() user: AuthUser, @Body() dto: InitializeSessionDto): Promise<SessionResponseDto> {
    return this.sessions.initialize(user, dto);
  }

  @Post('finalize')
  @HttpCode(200)
  @Auth('user', { scope: 'sessions:write' })
  @ApiOperation({
    summary: 'Settle a session at its real token count',
    description:
      'Charges the real tokens at the price in effect when the session started. Unused held credits go back to the ' +
      'allocations they were held from (same expiry); an overrun is taken from the balance, and what the balance ' +
      `cannot pay is reported as shortfall (usage record billingStatus needs_review). ${RETRY_NOTE}`,
  })
  @ApiOkResponse({ type: FinalizeResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid body' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'Unknown session, or another user’s' })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'Already settled differently (ALREADY_SETTLED)' })
  @ApiUnprocessableEntityResponse({ type: ErrorResponseDto, description: 'Unknown model while PRICING_STRICT is on' })
  finalize(@CurrentUser() user: AuthUser, @Body() dto: FinalizeSessionDto): Promise<FinalizeResponseDto> {
    return this.sessions.finalize(user, dto);
  }

  @Post('abort')
  @HttpCode(200)
  @Auth('user', { scope: 'sessions:write' })
  @ApiOperation({
    summary: 'Settle a session cut off early, charging the tokens generated so far',
    description: `tokensGenerated defaults to 0. The rest of the hold goes back to its allocations. ${RETRY_NOTE}`,
  })
  @ApiOkResponse({ type: AbortResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid body' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'Unknown session, or another user’s' })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'Already settled differently (ALREADY_SETTLED)' })
  @ApiUnprocessableEntityResponse({ type: ErrorResponseDto, description: 'Unknown model while PRICING_STRICT is on' })
  abort(@CurrentUser() user: AuthUser, @Body() dto: AbortSessionDto): Promise<AbortResponseDto> {
    return this.sessions.abort(user, dto);
  }

  @Get('active')
  @Auth('user', { scope: 'sessions:read' })
  @ApiOperation({ summary: 'The caller’s active sessions, oldest first' })
  @ApiOkResponse({ type: SessionListResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid limit or cursor' })
  mine(@CurrentUser() user: AuthUser, @Query() page: PageQueryDto): Promise<SessionListResponseDto> {
    return this.active.listActive({ ...page, userId: user.userId });
  }

  // Declared before `active/:userId`, which would otherwise take "all" for a user id.
  @Get('active/all')
  @Auth('admin')
  @ApiOperation({ summary: 'Every active session, oldest first' })
  @ApiOkResponse({ type: SessionListResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid limit or cursor' })
  all(@Query() page: PageQueryDto): Promise<SessionListResponseDto> {
    return this.active.listActive(page);
  }

  @Get('active/:userId')
  @Auth('supervisor')
  @ApiOperation({ summary: 'One user’s active sessions, oldest first' })
  @ApiParam({ name: 'userId', example: 'alice' })
  @ApiOkResponse({ type: SessionListResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid limit or cursor' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'Unknown user' })
  ofUser(@Param('userId') userId: string, @Query() page: PageQueryDto): Promise<SessionListResponseDto> {
    return this.active.listActive({ ...page, userId });
  }
}
