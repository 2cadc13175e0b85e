import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import { KeysAccount, type ResolvedAccount } from '../auth/account-access.js';
import {
  Auth,
  BEARER_SCHEME,
  CurrentUser,
  INTERNAL_API_KEY_SCHEME,
  PortalSessionOf,
  type PortalSessionRead,
  Public,
  type Taken,
  WriteInBody,
} from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { domainErrorExample, plainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotencyRedact } from '../idempotency/idempotency-redact.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import { ApiKeysService } from './api-keys.service.js';
import {
  ApiKeyListResponseDto,
  ApiKeyResponseDto,
  CreateApiKeyDto,
  CreatedApiKeyResponseDto,
  ListApiKeysQueryDto,
  UpdateApiKeyDto,
  VerifyApiKeyDto,
  VerifyApiKeyResponseDto,
} from './dto/api-key.dto.js';
import { InternalOrAdminGuard } from './internal-or-admin.guard.js';

/** Key management needs a JWT: `@Auth('user')` without a scope, so API keys cannot manage API keys. */
@ApiTags('api-keys')
@Controller('api/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @IdempotentPost()
  @Auth('user', { portal: 'any', session: true, bodyWrite: { member: true } })
  @IdempotencyRedact('key')
  @ApiOperation({
    operationId: 'createApiKey',
    summary: 'Create an API key for the caller',
    description:
      'The key acts as the caller with role `user`, limited to `permissions`. The response is the only place the key ' +
      'appears (only its SHA-256 hash is stored); an idempotent replay of this request does not repeat it. ' +
      'With `creditLimit`, the credits spent through the key per `limitPeriod` are capped.',
  })
  @ApiBody({
    type: CreateApiKeyDto,
    examples: {
      readOnly: {
        summary: 'A dashboard key that only reads',
        value: { name: 'billing-dashboard', permissions: ['credits:read', 'usage:read'] },
      },
      expiring: {
        summary: 'A usage writer that stops working at a date',
        value: { name: 'batch-importer', permissions: ['usage:write'], expiresAt: '2099-12-31T23:59:59.000Z' },
      },
      budgeted: {
        summary: 'An agent key that may spend at most 1,000 credits a day',
        value: {
          name: 'support-agent',
          permissions: ['usage:write', 'sessions:write'],
          creditLimit: 1000,
          limitPeriod: 'day',
        },
      },
    },
  })
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body, unknown scope, expiresAt not in the future, or limitPeriod without creditLimit',
    type: ErrorResponseDto,
  })
  @ApiConflictResponse({
    description: 'The owner already holds MAX_API_KEYS_PER_USER active keys (default 100): revoke one first',
    type: ErrorResponseDto,
    examples: {
      quota: domainErrorExample(
        'API_KEY_QUOTA',
        'At most 100 active API keys per user: revoke one first',
        'The owner holds as many active keys as allowed',
      ),
    },
  })
  @ApiForbiddenResponse({
    description: 'Called with an API key, or `usage:ingest` asked for by a caller who is not an admin',
    type: ErrorResponseDto,
    examples: {
      apiKey: plainErrorExample(403, 'API keys cannot call this route', 'Called with an API key'),
      ingestScope: domainErrorExample(
        'FORBIDDEN',
        'Only an admin may create a key with usage:ingest',
        'usage:ingest asked for by a caller who is not an admin',
      ),
    },
  })
  create(
    @CurrentUser() user: AuthUser,
    @Body() dto: CreateApiKeyDto,
    @PortalSessionOf() session: Taken<PortalSessionRead>,
    @WriteInBody() org: Taken<ResolvedAccount | null>,
  ): Promise<CreatedApiKeyResponseDto> {
    return this.apiKeys.create(user, dto, session, org);
  }

  @Get()
  @Auth('user', { account: { user: 'holder', staff: 'admin' }, portal: 'any' })
  @ApiOperation({
    operationId: 'listApiKeys',
    summary: "List the caller's API keys (admins: any user's), newest first, without the keys themselves",
    description:
      'Admins may list by scope across owners: `?scope=usage:ingest` answers every service key (the keys that ' +
      'meter for the platform), whoever owns it. `scope` from anyone else → 403.',
  })
  @ApiOkResponse({ type: ApiKeyListResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid query', type: ErrorResponseDto })
  list(
    @CurrentUser() user: AuthUser,
    @Query() query: ListApiKeysQueryDto,
    @KeysAccount() reach: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
  ): Promise<ApiKeyListResponseDto> {
    return this.apiKeys.list(user, query, reach);
  }

  @IdempotentPost('verify')
  @HttpCode(200)
  @Public()
  @UseGuards(InternalOrAdminGuard)
  @ApiBearerAuth(BEARER_SCHEME)
  @ApiSecurity(INTERNAL_API_KEY_SCHEME)
  @ApiOperation({
    operationId: 'verifyApiKey',
    summary: 'Check an API key on behalf of another service',
    description: 'Callers: `X-Internal-Api-Key` (INTERNAL_API_KEY) or an admin JWT. API keys are not accepted.',
  })
  @ApiBody({
    type: VerifyApiKeyDto,
    examples: {
      unknownKey: {
        summary: 'A key the service never issued (answers valid: false)',
        value: { key: 'acs_live_Q2x9bVRk1mN3aF0pL7sT4uW8yZ2cE5gH6jK9oP1rS3v' },
      },
    },
  })
  @ApiOkResponse({
    type: VerifyApiKeyResponseDto,
    description: '`{valid: true, keyId, userId, permissions}` or `{valid: false, reason}`',
  })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorResponseDto })
  @ApiUnauthorizedResponse({
    description: 'Missing or wrong internal key, or invalid credentials',
    type: ErrorResponseDto,
    examples: {
      noCredentials: plainErrorExample(401, 'Authentication required', 'Neither the internal key nor a JWT'),
      wrongInternalKey: plainErrorExample(401, 'Invalid internal API key', 'A wrong X-Internal-Api-Key'),
    },
  })
  @ApiForbiddenResponse({
    description: 'Requires role admin or the internal API key. API keys: not accepted.',
    type: ErrorResponseDto,
    examples: {
      notAdmin: plainErrorExample(403, 'Requires role admin or the internal API key', 'A JWT below admin'),
      apiKey: plainErrorExample(403, 'API keys cannot call this route', 'Called with an API key'),
    },
  })
  @ApiTooManyRequestsResponse({ description: 'Rate limited; see Retry-After', type: ErrorResponseDto })
  verify(@Body() dto: VerifyApiKeyDto): Promise<VerifyApiKeyResponseDto> {
    return this.apiKeys.verify(dto.key);
  }

  @Get(':id')
  @Auth('user', { portal: 'any' })
  @ApiOperation({
    operationId: 'getApiKey',
    summary: 'One API key of the caller (admins: any), without the key itself',
  })
  @ApiOkResponse({ type: ApiKeyResponseDto })
  @ApiBadRequestResponse({ description: 'The id is not a UUID', type: ErrorResponseDto })
  @ApiNotFoundOf('API key', "Unknown, or another user's key")
  get(
    @CurrentUser() user: AuthUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @KeysAccount() reach: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
  ): Promise<ApiKeyResponseDto> {
    return this.apiKeys.get(user, id, reach);
  }

  @Patch(':id')
  @Auth('user')
  @ApiOperation({
    operationId: 'updateApiKey',
    summary: 'Rename an API key of the caller (admins: any) or change its credit budget',
    description:
      '`creditLimit: null` removes the limit and its period. Credits already spent in the current period stay ' +
      'counted against a changed limit; a changed period counts from the start of the new one.',
  })
  @ApiParam({ name: 'id', format: 'uuid', example: '5f0c2a43-8a0e-4e0b-9c52-1f1d7f0b6a11' })
  @ApiBody({
    type: UpdateApiKeyDto,
    examples: {
      budget: { summary: 'A monthly budget of 5,000 credits', value: { creditLimit: 5000, limitPeriod: 'month' } },
      rename: { summary: 'A new name', value: { name: 'ci-runner' } },
      unlimited: { summary: 'Remove the budget', value: { creditLimit: null } },
    },
  })
  @ApiOkResponse({ type: ApiKeyResponseDto, description: 'The key as it is now' })
  @ApiBadRequestResponse({
    description: 'The id is not a UUID, an invalid or empty body, or limitPeriod without a limit',
    type: ErrorResponseDto,
  })
  @ApiNotFoundOf('API key', "Unknown, or another user's key")
  update(
    @CurrentUser() user: AuthUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() dto: UpdateApiKeyDto,
    @KeysAccount() reach: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
  ): Promise<ApiKeyResponseDto> {
    return this.apiKeys.update(user, id, dto, reach);
  }

  @Delete(':id')
  @Auth('user', { portal: 'any' })
  @ApiOperation({
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key of the caller (admins: any); effective on the next request',
  })
  @ApiOkResponse({
    type: ApiKeyResponseDto,
    description: 'The revoked key (`isActive: false`); revoking again answers the same',
  })
  @ApiBadRequestResponse({ description: 'The id is not a UUID', type: ErrorResponseDto })
  @ApiNotFoundOf('API key', "Unknown, or another user's key")
  revoke(
    @CurrentUser() user: AuthUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @KeysAccount() reach: Pick<ResolvedAccount, 'kind' | 'ownerId'> | null,
  ): Promise<ApiKeyResponseDto> {
    return this.apiKeys.revoke(user, id, reach);
  }
}
