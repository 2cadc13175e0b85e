import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Put, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { Auth, CurrentUser, Public } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { DEFAULT_LIMIT } from '../common/http/pagination.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  NotificationDetailResponseDto,
  NotificationListResponseDto,
  NotificationsQueryDto,
  PreferencesResponseDto,
  PutPreferencesDto,
  UnsubscribedResponseDto,
} from './dto/notifications.dto.js';
import { NotificationsService } from './notifications.service.js';

/** The unsubscribe links are made under this path (src/notifications/email.worker.ts). */
export const UNSUBSCRIBE_ROUTE = '/api/notifications/unsubscribe';

/** Email notifications: docs/notifications.md. */
@ApiTags('notifications')
@Controller('api/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get('preferences')
  @Auth('user')
  @ApiOperation({
    operationId: 'getNotificationPreferences',
    summary: "The caller's email preferences",
    description: 'Every kind of email and whether the caller receives it; a kind never set is on.',
  })
  @ApiOkResponse({ type: PreferencesResponseDto })
  getPreferences(@CurrentUser() user: AuthUser): Promise<PreferencesResponseDto> {
    return this.notifications.preferences(user.userId);
  }

  @Put('preferences')
  @Auth('user')
  @ApiOperation({
    operationId: 'putNotificationPreferences',
    summary: 'Turn kinds of email on or off for the caller',
    description: 'Kinds left out keep their setting. Answers every kind as it now is.',
  })
  @ApiBody({
    type: PutPreferencesDto,
    examples: {
      off: { summary: 'Turn low-balance emails off', value: { email: { 'balance.low': false } } },
      on: {
        summary: 'Turn receipts and expiry notices on',
        value: { email: { 'purchase.paid': true, 'credits.expiring': true } },
      },
    },
  })
  @ApiOkResponse({ type: PreferencesResponseDto })
  @ApiBadRequestResponse({ description: 'An unknown kind or a value that is not a boolean', type: ErrorResponseDto })
  putPreferences(@CurrentUser() user: AuthUser, @Body() dto: PutPreferencesDto): Promise<PreferencesResponseDto> {
    return this.notifications.setPreferences(user.userId, dto.email);
  }

  @Get()
  @Auth('supervisor', { account: { user: 'staff' } })
  @ApiOperation({
    operationId: 'listNotifications',
    summary: 'Emails, newest first',
    description:
      'Every email made from an event, one per event and recipient, whatever became of it: `kept` when the ' +
      'service runs without SMTP_URL.',
  })
  @ApiOkResponse({ type: NotificationListResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid query or cursor', type: ErrorResponseDto })
  list(@Query() query: NotificationsQueryDto): Promise<NotificationListResponseDto> {
    return this.notifications.list(query, query.limit ?? DEFAULT_LIMIT);
  }

  @Get(':id')
  @Auth('supervisor')
  @ApiOperation({
    operationId: 'getNotification',
    summary: 'One email with its text and HTML parts',
    description: 'The parts are null until the email is made (a pending email not yet attempted).',
  })
  @ApiParam({ name: 'id', format: 'uuid', example: '0193a5c2-7e41-7b9a-8c3d-2f1e4a6b8c9d' })
  @ApiOkResponse({ type: NotificationDetailResponseDto })
  @ApiBadRequestResponse({ description: 'The id is not a UUID', type: ErrorResponseDto })
  @ApiNotFoundOf('Email', 'No such email')
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<NotificationDetailResponseDto> {
    return this.notifications.get(id);
  }

  @IdempotentPost('unsubscribe/:token')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    operationId: 'unsubscribeEmail',
    summary: 'One-click unsubscribe (RFC 8058)',
    description:
      "The address in an email's `List-Unsubscribe` header: turns that kind of email off for the user it was sent " +
      'to, without signing in. The body mail clients send (`List-Unsubscribe=One-Click`, form-encoded) is accepted ' +
      'and not needed.',
  })
  @ApiParam({
    name: 'token',
    description: 'The signed part of the link',
    example: 'WyJib2IiLCJiYWxhbmNlLmxvdyJd.c2lnbmF0dXJl',
  })
  @ApiOkResponse({ type: UnsubscribedResponseDto })
  @ApiBadRequestResponse({
    description: 'A forged, altered or truncated link',
    type: ErrorResponseDto,
    examples: {
      invalidLink: domainErrorExample(
        'VALIDATION',
        'The unsubscribe link is not valid',
        'The signature does not match',
      ),
    },
  })
  unsubscribe(@Param('token') token: string): Promise<UnsubscribedResponseDto> {
    return this.notifications.unsubscribe(token);
  }
}
