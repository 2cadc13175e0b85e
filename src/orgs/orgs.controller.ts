import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { Auth, CurrentUser, NamedErased } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { StaffRead } from '../auth/staff-read.decorator.js';
import { ACCOUNT_ERASED_EXAMPLE, domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  CreateOrgDto,
  ListOrgsQueryDto,
  MyOrgsResponseDto,
  OrgListResponseDto,
  OrgModelsDto,
  OrgResponseDto,
} from './dto/org.dto.js';
import { OrgRoute } from './org-docs.js';
import { OrgsService } from './orgs.service.js';

@ApiTags('orgs')
@Controller('api/orgs')
export class OrgsController {
  constructor(private readonly orgs: OrgsService) {}

  @IdempotentPost()
  @Auth('supervisor')
  @ApiOperation({
    operationId: 'createOrg',
    summary: 'Create an organisation: an account that pays for its members (supervisor)',
    description:
      'The owner (an existing user) becomes its first member, role owner. Without orgId one is generated ' +
      '(`org-` and 12 hex digits).',
  })
  @ApiBody({
    type: CreateOrgDto,
    examples: {
      named: {
        summary: 'An org with its own id',
        value: { orgId: 'globex', name: 'Globex Corporation', ownerUserId: 'alice' },
      },
      generated: { summary: 'An org whose id is generated', value: { name: 'Acme Inc.', ownerUserId: 'alice' } },
    },
  })
  @ApiCreatedResponse({ type: OrgResponseDto })
  @ApiNotFoundOf('User', 'Unknown owner')
  @ApiConflictResponse({
    description: 'The org id is taken; the owner’s person was erased (`code` ACCOUNT_ERASED)',
    type: ErrorResponseDto,
    examples: {
      exists: domainErrorExample('ORG_EXISTS', 'Org acme exists already', 'The id is taken'),
      ...ACCOUNT_ERASED_EXAMPLE,
    },
  })
  create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreateOrgDto,
    @NamedErased() erased: ReadonlySet<string>,
  ): Promise<OrgResponseDto> {
    return this.orgs.create(user, body, erased);
  }

  @Get()
  @StaffRead('supervisor', OrgListResponseDto, 'listOrgs', 'Organisations with their pools, oldest first (supervisor)')
  list(@Query() query: ListOrgsQueryDto): Promise<OrgListResponseDto> {
    return this.orgs.list(query);
  }

  // Declared before :orgId: a static path, so the parameter route never takes "mine".
  @Get('mine')
  @Auth('user', { scope: 'credits:read' })
  @ApiOperation({ operationId: 'listMyOrgs', summary: 'The caller’s active memberships, with their roles' })
  @ApiOkResponse({ type: MyOrgsResponseDto })
  mine(@CurrentUser() user: AuthUser): Promise<MyOrgsResponseDto> {
    return this.orgs.mine(user.userId);
  }

  @Put(':orgId/models')
  @Auth('supervisor', { account: { org: 'staff' } })
  @ApiOperation({
    operationId: 'setOrgModels',
    summary: 'Which models the org’s members may meter on its account (supervisor); null: every model',
  })
  @OrgRoute()
  @ApiBody({
    type: OrgModelsDto,
    examples: {
      anthropic: {
        summary: 'Only Anthropic models and one OpenAI model',
        value: { models: ['anthropic.*', 'gpt-4o-mini'] },
      },
      every: { summary: 'Every model (clears the list)', value: { models: null } },
    },
  })
  @ApiOkResponse({ type: OrgResponseDto })
  @ApiBadRequestResponse({
    description: 'An empty list, or a pattern that is not a model id or prefix*',
    type: ErrorResponseDto,
  })
  setModels(@Param('orgId') orgId: string, @Body() body: OrgModelsDto): Promise<OrgResponseDto> {
    return this.orgs.setModels(orgId, body.models);
  }

  @Get(':orgId')
  @Auth('user', { account: { org: 'member' }, portal: 'own' })
  @ApiOperation({
    operationId: 'getOrg',
    summary: 'An organisation: its pool’s available, held and owed credits, its member count (members, staff)',
  })
  @OrgRoute()
  @ApiOkResponse({ type: OrgResponseDto })
  get(@Param('orgId') orgId: string): Promise<OrgResponseDto> {
    return this.orgs.get(orgId);
  }
}
