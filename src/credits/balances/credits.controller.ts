import { applyDecorators, Body, Controller, Get, HttpCode, Inject, Param, Query, type Type } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { existingUser, type ResolvedAccount } from '../../auth/account-access.js';
import { Auth, type BodyNamed, CurrentUser, NamedAccount, NamedInBody } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { StaffRead } from '../../auth/staff-read.decorator.js';
import { StaffUserRoute } from '../../auth/staff-user-route.decorator.js';
import { unknownModelExample } from '../../common/errors/error-examples.js';
import { ErrorResponseDto, UnprocessableResponseDto } from '../../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import { kindExamples } from '../../pricing/dto/token-kinds.dto.js';
import { meteredCounts, meteredDimensions } from '../../pricing/provider-usage.js';
import { CreditAdminService } from '../credit-admin.service.js';
import { CreditQuotesService, QUOTE_ACCOUNTS } from '../credit-quotes.service.js';
import {
  AllocationListResponseDto,
  AllocationResponseDto,
  ListAllocationsQueryDto,
  VoidAllocationDto,
} from '../dto/allocations.dto.js';
import { BalanceResponseDto } from '../dto/balance.dto.js';
import {
  CalculateCreditsDto,
  CalculateCreditsResponseDto,
  CheckCreditsDto,
  CheckCreditsResponseDto,
} from '../dto/check-calculate.dto.js';
import { LedgerListResponseDto, LedgerQueryDto } from '../dto/ledger.dto.js';
import { CreditSummaryResponseDto } from '../dto/summary.dto.js';
import { CreditQueriesService } from './credit-queries.service.js';

/**
 * A read of a user's own credits (`credits:read`, a portal session of their own) or, for supervisors,
 * of the user `userId` names (404 when unknown). Listed last to first: applyDecorators applies them
 * in order, a stack from its last line up, so the document is the one the stack written out made.
 */
function HolderRead(operationId: string, summary: string, ok: Type<unknown>): MethodDecorator {
  return applyDecorators(
    ApiNotFoundOf('User', 'Unknown user (supervisors)'),
    ApiOkResponse({ type: ok }),
    ApiOperation({ operationId, summary }),
    Auth('user', { scope: 'credits:read', account: { user: 'holder' }, portal: 'own', own: 'user' }),
  );
}

@ApiTags('credits')
@Controller('api/credits')
export class CreditsController {
  constructor(
    @Inject(CreditAdminService) private readonly admin: CreditAdminService,
    @Inject(CreditQueriesService) private readonly queries: CreditQueriesService,
    @Inject(CreditQuotesService) private readonly quotes: CreditQuotesService,
  ) {}

  @Get('balance')
  @Auth('user', { scope: 'credits:read', portal: 'own', own: 'user' })
  @ApiOperation({
    operationId: 'getBalance',
    summary: 'The caller’s available credits, held credits and active allocations',
  })
  @ApiOkResponse({ type: BalanceResponseDto })
  balance(@NamedAccount() own: ResolvedAccount): Promise<BalanceResponseDto> {
    return this.queries.balance(own);
  }

  @Get('balance/:userId')
  @StaffUserRoute('supervisor')
  @ApiOperation({ operationId: 'getUserBalance', summary: 'A user’s balance (supervisor)' })
  @ApiOkResponse({ type: BalanceResponseDto })
  balanceOf(
    @Param('userId') _userId: string,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<BalanceResponseDto> {
    return this.queries.balance(existingUser(account));
  }

  @IdempotentPost('check')
  @HttpCode(200)
  @Auth('user', { scope: 'credits:read', portal: 'own', changesNothing: true, own: 'user' })
  @ApiOperation({
    operationId: 'checkCredits',
    summary: 'Whether the caller has at least `credits` available (changes nothing)',
  })
  @ApiBody({
    type: CheckCreditsDto,
    examples: { check: { summary: 'Can the caller spend 25 credits?', value: { credits: 25 } } },
  })
  @ApiOkResponse({ type: CheckCreditsResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorResponseDto })
  async check(@NamedAccount() own: ResolvedAccount, @Body() body: CheckCreditsDto): Promise<CheckCreditsResponseDto> {
    const available = await this.queries.spendable(own.accountId);
    return { sufficient: available >= body.credits, requiredCredits: body.credits, availableCredits: available };
  }

  @IdempotentPost('calculate')
  @HttpCode(200)
  @Auth('user', { scope: 'credits:read', portal: 'any', changesNothing: true, own: 'account', body: QUOTE_ACCOUNTS })
  @ApiOperation({
    operationId: 'calculateCredits',
    summary: 'Credits a token count costs with the model’s current price (exact)',
    description:
      'Give `tokens`, or the counts per kind (`inputTokens`, `outputTokens`, `cacheReadTokens`, `cacheWriteTokens`, ' +
      '`reasoningTokens`, each at its price), not both.',
  })
  @ApiBody({
    type: CalculateCreditsDto,
    examples: {
      byTokens: {
        summary: 'One token count',
        value: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0', tokens: 12000 },
      },
      byInputOutput: {
        summary: 'Input and output tokens, each at its price',
        value: { modelId: 'anthropic.claude-3-haiku-20240307-v1:0', inputTokens: 9000, outputTokens: 3000 },
      },
      ...kindExamples((modelId, tokens) => ({ modelId, ...tokens })),
    },
  })
  @ApiOkResponse({ type: CalculateCreditsResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorResponseDto })
  @ApiNotFoundOf('User', 'userId or orgId names an account the caller may not see')
  @ApiUnprocessableEntityResponse({
    description: 'Unknown model while PRICING_STRICT=true',
    type: UnprocessableResponseDto,
    examples: unknownModelExample,
  })
  async calculate(
    @CurrentUser() caller: AuthUser,
    @Body() body: CalculateCreditsDto,
    @NamedAccount() own: ResolvedAccount,
    @NamedInBody() named: BodyNamed,
  ): Promise<CalculateCreditsResponseDto> {
    const counts = meteredCounts(body.tokens, body, 'tokens');
    const quote = await this.quotes.quote(
      caller,
      own,
      body.modelId,
      counts.kinds,
      { userId: body.userId, orgId: body.orgId, account: named },
      meteredDimensions(body),
    );
    return {
      modelId: body.modelId,
      tokens: counts.total,
      credits: quote.credits,
      pricePer1kTokens: quote.pricePer1kTokens,
      outputPricePer1kTokens: quote.outputPricePer1kTokens,
      source: quote.source,
      priceSource: quote.priceSource,
      entitled: quote.entitled,
      accountPriceId: quote.accountPriceId,
      discountPercent: quote.discountPercent,
      volumeStep: quote.volumeStep,
    };
  }

  @Get('allocations')
  @HolderRead(
    'listAllocations',
    'Allocations, newest first (own; any user’s for supervisors)',
    AllocationListResponseDto,
  )
  allocations(
    @Query() query: ListAllocationsQueryDto,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<AllocationListResponseDto> {
    return this.queries.listAllocations({ ...query, accountId: existingUser(account).accountId });
  }

  @IdempotentPost('allocations/:id/void')
  @HttpCode(200)
  @Auth('admin')
  @ApiOperation({
    operationId: 'voidAllocation',
    summary: 'Void an allocation (admin)',
    description:
      'Its remaining credits leave through a `void` ledger entry. Voiding again answers 200 and changes nothing.',
  })
  @ApiParam({ name: 'id', format: 'uuid', example: '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a' })
  @ApiBody({
    type: VoidAllocationDto,
    required: false,
    description: 'Optional: a request without a body is fine',
    examples: {
      withReason: { summary: 'Say why (kept on the ledger entry)', value: { reason: 'Granted to the wrong account' } },
      withoutReason: { summary: 'No reason', value: {} },
    },
  })
  @ApiOkResponse({ type: AllocationResponseDto })
  @ApiNotFoundOf('Allocation', 'Unknown allocation')
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorResponseDto })
  void(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: VoidAllocationDto,
  ): Promise<AllocationResponseDto> {
    return this.admin.void(user, id, body.reason ?? null);
  }

  @Get('ledger')
  @HolderRead('listLedger', 'Ledger entries, newest first (own; any user’s for supervisors)', LedgerListResponseDto)
  ledger(
    @Query() query: LedgerQueryDto,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<LedgerListResponseDto> {
    return this.queries.listLedger({ ...query, accountId: existingUser(account).accountId });
  }

  @Get('summary')
  @StaffRead(
    'admin',
    CreditSummaryResponseDto,
    'getCreditSummary',
    'The liability summary: credits available, held, owed and expiring; 30 UTC days of movements (admin)',
  )
  summary(): Promise<CreditSummaryResponseDto> {
    return this.queries.summary();
  }
}
