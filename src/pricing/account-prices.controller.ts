import { Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';

import type { AccountRule, ResolvedAccount } from '../auth/account-access.js';
import { Auth, type BodyNamed, CurrentUser, NamedAccount, NamedErased, NamedInBody } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ACCOUNT_ERASED_EXAMPLE, domainErrorExample, plainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import { AccountPricesService } from './account-prices.service.js';
import {
  AccountPriceListResponseDto,
  AccountPriceResponseDto,
  AccountPricesQueryDto,
  CreateAccountPriceDto,
} from './dto/account-prices.dto.js';

/** The account a new price is for, named in its body: every one, for staff (the route's admins). */
const PRICED_ACCOUNTS: AccountRule = { user: 'staff', org: 'staff' };

/** Prices by account (docs/pricing.md); registered before PricingController's `:modelId`. */
@ApiTags('pricing')
@Controller('api/pricing')
export class AccountPricesController {
  constructor(@Inject(AccountPricesService) private readonly accountPrices: AccountPricesService) {}

  @IdempotentPost('accounts')
  @Auth('admin', { body: PRICED_ACCOUNTS, orgNotFound: 'Organisation' })
  @ApiOperation({
    operationId: 'createAccountPrice',
    summary: 'Give an account its own price for a model or a prefix (admin)',
    description:
      'A discount on every per-kind price of the model’s rule, or per-kind prices replacing the rule’s (the kinds ' +
      'not given keep the rule’s). Effective-dated: `effectiveFrom` is required and not earlier than now − 60 s; ' +
      'the account’s open price of the same pattern is closed there.',
  })
  @ApiBody({
    type: CreateAccountPriceDto,
    examples: {
      discount: {
        summary: '12.5 % off every Anthropic model from 2099',
        value: {
          userId: 'alice',
          modelId: 'anthropic.*',
          discountPercent: '12.5',
          effectiveFrom: '2099-01-01T00:00:00.000Z',
        },
      },
    },
  })
  @ApiCreatedResponse({ type: AccountPriceResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body: both forms or neither, an effectiveFrom in the past, userId and orgId together…',
    type: ErrorResponseDto,
  })
  @ApiNotFoundOf('User', 'Unknown user or organisation')
  @ApiConflictResponse({
    description:
      'It would overlap another price of the account and pattern; the user’s person was erased (`code` ACCOUNT_ERASED)',
    type: ErrorResponseDto,
    examples: {
      overlap: plainErrorExample(409, 'Conflicts with an existing record', 'Overlaps another price'),
      ...ACCOUNT_ERASED_EXAMPLE,
    },
  })
  create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreateAccountPriceDto,
    @NamedInBody() named: BodyNamed,
    @NamedErased() erased: ReadonlySet<string>,
  ): Promise<AccountPriceResponseDto> {
    return this.accountPrices.create(body, user.userId, named, erased);
  }

  @Get('accounts')
  @Auth('supervisor', { account: { user: 'staff', org: 'staff' } })
  @ApiOperation({
    operationId: 'listAccountPrices',
    summary: 'An account’s prices (neither userId nor orgId: every account’s), newest effectiveFrom first (supervisor)',
  })
  @ApiOkResponse({ type: AccountPriceListResponseDto })
  @ApiBadRequestResponse({ description: 'userId and orgId together', type: ErrorResponseDto })
  async list(
    @Query() _query: AccountPricesQueryDto,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<AccountPriceListResponseDto> {
    return { items: await this.accountPrices.list(account?.accountId ?? null), nextCursor: null };
  }

  @Delete('accounts/:id')
  @Auth('admin')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'deleteAccountPrice',
    summary: 'Delete an account price that has not started (admin)',
  })
  @ApiParam({ name: 'id', example: '0193a0c2-7f00-7000-8000-000000000001' })
  @ApiOkResponse({ type: AccountPriceResponseDto, description: 'The deleted price' })
  @ApiBadRequestResponse({ description: 'The id is not a UUID', type: ErrorResponseDto })
  @ApiNotFoundOf('Account price', 'Unknown account price')
  @ApiConflictResponse({
    description: 'It has started: writes may have been priced with it',
    type: ErrorResponseDto,
    examples: {
      started: domainErrorExample(
        'ACCOUNT_PRICE_STARTED',
        'This account price has started: writes may have been priced with it. End it with a new one instead',
        'Already in force',
      ),
    },
  })
  delete(@Param('id', new ParseUUIDPipe()) id: string): Promise<AccountPriceResponseDto> {
    return this.accountPrices.delete(id);
  }
}
