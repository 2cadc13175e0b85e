import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';

import type { ResolvedAccount } from '../auth/account-access.js';
import {
  Auth,
  type BodyNamed,
  CurrentUser,
  MemberInBody,
  NamedInBody,
  PortalSessionOf,
  type PortalSessionRead,
  type Taken,
} from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { commonErrorExamples, domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto, ForbiddenResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotencyRedact } from '../idempotency/idempotency-redact.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  CreatePortalSessionDto,
  CurrentPortalSessionResponseDto,
  PortalSessionResponseDto,
} from './dto/portal-session.dto.js';
import { PortalSessionsService, SERVICE_PRINCIPALS_ONLY, SESSION_USERS } from './portal-sessions.service.js';

const SERVICE_ONLY =
  'Service principals only (an admin token, or an API key with `usage:ingest`): the platform’s backend, ' +
  'never the user.';

/** The platform's backend opens a portal for one of its users, and may end it early. */
@ApiTags('portal')
@Controller('api/portal')
export class PortalSessionsController {
  constructor(private readonly sessions: PortalSessionsService) {}

  @IdempotentPost('sessions')
  @Auth('user', { scope: 'usage:ingest', body: SESSION_USERS, bodyMember: true })
  // The token is a credential: a replay answers without it (and without the URL that carries it).
  @IdempotencyRedact('token', 'url')
  @ApiOperation({
    operationId: 'createPortalSession',
    summary: 'Open a portal session for a user: a token limited to one account, and the portal’s URL',
    description:
      `${SERVICE_ONLY} The token reaches the account’s reads, the user’s own API keys and promotion ` +
      'redemptions (docs/portal.md); with `orgId`, only that org’s account, as the user’s role in it allows.',
  })
  @ApiBody({
    type: CreatePortalSessionDto,
    examples: {
      user: { summary: 'A user’s own credits for 15 minutes', value: { userId: 'alice' } },
      short: { summary: 'A session of 5 minutes', value: { userId: 'alice', ttlSeconds: 300 } },
    },
  })
  @ApiCreatedResponse({ type: PortalSessionResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid body (ttlSeconds outside 60–3600)', type: ErrorResponseDto })
  @ApiNotFoundOf('User', 'Unknown user')
  @ApiForbiddenResponse({
    description: `Not a service principal, or the user is not an active member of \`orgId\`. ${SERVICE_ONLY}`,
    type: ForbiddenResponseDto,
    examples: {
      ...commonErrorExamples(403, { post: true, scope: 'usage:ingest' }),
      notService: domainErrorExample('FORBIDDEN', SERVICE_PRINCIPALS_ONLY, 'A user’s or a supervisor’s token'),
      notAMember: domainErrorExample(
        'NOT_A_MEMBER',
        'alice is not an active member of organisation acme',
        'orgId names an org the user is not an active member of',
        { orgId: 'acme' },
      ),
    },
  })
  create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreatePortalSessionDto,
    @NamedInBody() named: BodyNamed,
    @MemberInBody() member: Taken<ResolvedAccount>,
  ): Promise<PortalSessionResponseDto> {
    return this.sessions.create(user, body, named, member);
  }

  @Get('session')
  @Auth('user', { portal: 'any', session: true })
  @ApiOperation({
    operationId: 'getPortalSession',
    summary: 'The caller’s portal session: whose, which account, until when (portal tokens only)',
    description: 'What the portal page asks first, to know which tabs to show. Any other caller: 404.',
  })
  @ApiOkResponse({ type: CurrentPortalSessionResponseDto })
  @ApiNotFoundOf('Portal session', 'Not called with a portal token')
  current(@PortalSessionOf() session: Taken<PortalSessionRead>): Promise<CurrentPortalSessionResponseDto> {
    return this.sessions.current(session);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @Auth('user', { scope: 'usage:ingest' })
  @ApiOperation({
    operationId: 'endPortalSession',
    summary: 'End a portal session: its token is refused (401) from the next request on',
    description: `${SERVICE_ONLY} Ending an ended session again answers 204.`,
  })
  @ApiParam({ name: 'id', format: 'uuid', example: '0193a1f0-7c1e-7a34-9d2b-5f3c2e1a9b70' })
  @ApiNoContentResponse({ description: 'Ended' })
  @ApiBadRequestResponse({ description: 'The id is not a UUID', type: ErrorResponseDto })
  @ApiNotFoundOf('Portal session', 'Unknown session')
  async end(@CurrentUser() user: AuthUser, @Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.sessions.end(user, id);
  }
}
