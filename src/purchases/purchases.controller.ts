import { Body, Controller, Get, Param, Query } from '@nestjs/common';
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

import type { ResolvedAccount } from '../auth/account-access.js';
import {
  Auth,
  type BodyNamed,
  CurrentUser,
  NamedAccount,
  NamedErased,
  NamedInBody,
  RowReached,
  type Taken,
  WriteInBody,
} from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto, RefundConflictResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../idempotency/idempotent-post.decorator.js';
import {
  ClosePurchaseDto,
  CreatePurchaseDto,
  ListPurchasesQueryDto,
  MarkPaidDto,
  ProviderEventDto,
  PurchaseListResponseDto,
  PurchaseResponseDto,
  RefundableResponseDto,
  RefundPurchaseDto,
  RefundResponseDto,
} from './dto/purchases.dto.js';
import { PurchaseRefundsService } from './purchase-refunds.service.js';
import { ClosePurchaseRoute, PurchaseById, SERVICE_ONLY, ServicePurchaseChange } from './purchase-routes.decorator.js';
import {
  actorOfCaller,
  assertServicePrincipal,
  PURCHASE_OWNERS,
  PURCHASE_READERS,
  PurchasesService,
} from './purchases.service.js';

@ApiTags('purchases')
@Controller('api/purchases')
export class PurchasesController {
  constructor(
    private readonly purchases: PurchasesService,
    private readonly refunds: PurchaseRefundsService,
  ) {}

  @IdempotentPost()
  @Auth('user', { scope: 'usage:ingest', body: PURCHASE_OWNERS, bodyWrite: { member: false } })
  @ApiOperation({
    operationId: 'createPurchase',
    summary: 'Create a purchase, pending payment (service principals)',
    description: `${SERVICE_ONLY} Nothing is granted until it is paid.`,
  })
  @ApiBody({
    type: CreatePurchaseDto,
    examples: {
      user: {
        summary: 'A user buys 1,000 credits for 10.00 USD',
        value: { userId: 'alice', credits: 1000, amount: '10.00', currency: 'usd', provider: 'stripe' },
      },
      shortExpiry: {
        summary: 'Credits that expire after 90 days',
        value: { userId: 'alice', credits: 500, amount: '5.00', currency: 'usd', provider: 'paddle', expiryDays: 90 },
      },
      package: {
        summary: 'A user buys the package starter (its credits, bonus, price and expiry)',
        value: { userId: 'alice', packageId: 'starter', provider: 'stripe' },
      },
    },
  })
  @ApiCreatedResponse({ type: PurchaseResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorResponseDto })
  @ApiNotFoundOf('User', 'Unknown user or org, or a package that is unknown or off sale', {
    package: domainErrorExample('PACKAGE_NOT_FOUND', 'No such package on sale', 'An unknown or inactive packageId'),
  })
  @ApiUnprocessableEntityResponse({
    description: 'PRICE_BELOW_PACKAGES: a price per credit below the lowest of the packages on sale in its currency',
    type: ErrorResponseDto,
    examples: {
      belowPackages: domainErrorExample(
        'PRICE_BELOW_PACKAGES',
        'This price per credit is below the lowest of the packages on sale in usd',
        'Cheaper per credit than every package on sale',
      ),
    },
  })
  @ApiConflictResponse({
    description:
      'The `(provider, providerRef)` is taken, the `autoRechargeAttemptId` is no longer open, or the account pays ' +
      'in another currency (CURRENCY_MISMATCH)',
    type: ErrorResponseDto,
    examples: {
      currencyMismatch: domainErrorExample(
        'CURRENCY_MISMATCH',
        'This account pays in usd, not eur',
        'A price in another currency than the account’s billing currency',
      ),
      exists: domainErrorExample(
        'PURCHASE_EXISTS',
        'A purchase of provider stripe has this providerRef already',
        'A providerRef used before',
      ),
      attemptClosed: domainErrorExample(
        'AUTO_RECHARGE_ATTEMPT_CLOSED',
        'This auto-recharge attempt has failed',
        'An autoRechargeAttemptId that is no longer open',
      ),
    },
  })
  create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreatePurchaseDto,
    @WriteInBody() forOrg: Taken<ResolvedAccount | null>,
    @NamedInBody() named: BodyNamed,
    @NamedErased() erased: ReadonlySet<string>,
  ): Promise<PurchaseResponseDto> {
    return this.purchases.create(user, body, forOrg, named, erased);
  }

  @Get()
  @Auth('user', { scope: 'credits:read', account: PURCHASE_READERS, portal: 'own', own: 'user', ownOrNone: true })
  @ApiOperation({
    operationId: 'listPurchases',
    summary: 'Purchases, newest first (own; an org’s for its readers; any for staff)',
  })
  @ApiOkResponse({ type: PurchaseListResponseDto })
  list(
    @CurrentUser() user: AuthUser,
    @Query() query: ListPurchasesQueryDto,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<PurchaseListResponseDto> {
    return this.purchases.list(user, query, account);
  }

  @Get(':id')
  @Auth('user', { scope: 'credits:read', portal: 'any', row: { of: 'purchase', rule: PURCHASE_READERS } })
  @ApiOperation({ operationId: 'getPurchase', summary: 'One purchase (own, an org reader’s, staff)' })
  @PurchaseById()
  @ApiOkResponse({ type: PurchaseResponseDto })
  get(@Param('id') id: string, @RowReached() reached: Taken<boolean>): Promise<PurchaseResponseDto> {
    return this.purchases.get(id, reached);
  }

  @Get(':id/refundable')
  @Auth('user', { scope: 'credits:read', portal: 'any', row: { of: 'purchase', rule: PURCHASE_READERS } })
  @ApiOperation({
    operationId: 'getPurchaseRefundable',
    summary: 'What could be refunded now: the allocation’s remaining credits and their share of the amount',
  })
  @PurchaseById()
  @ApiOkResponse({ type: RefundableResponseDto })
  refundable(@Param('id') id: string, @RowReached() reached: Taken<boolean>): Promise<RefundableResponseDto> {
    return this.purchases.refundable(id, reached);
  }

  @ServicePurchaseChange(
    ':id/paid',
    {
      operationId: 'markPurchasePaid',
      summary: 'The purchase was paid: grant its one allocation (service principals)',
      description:
        'Paid again answers the same view and grants nothing. A providerPaymentId that paid another purchase of ' +
        'the provider → 409 PURCHASE_EXISTS.',
    },
    {
      description: 'The purchase failed or expired, or its payment paid another purchase',
      examples: {
        notPayable: domainErrorExample('PURCHASE_NOT_PAYABLE', 'A failed purchase cannot be paid', 'A failed purchase'),
        paymentUsed: domainErrorExample(
          'PURCHASE_EXISTS',
          'Payment pi_3Nabc of stripe paid another purchase',
          'A providerPaymentId another purchase of the provider has',
        ),
      },
    },
  )
  @ApiBody({
    type: MarkPaidDto,
    required: false,
    examples: {
      withPayment: { summary: 'With the provider’s payment id', value: { providerPaymentId: 'pi_3Nabc' } },
      bare: { summary: 'Nothing more to say', value: {} },
    },
  })
  paid(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: MarkPaidDto,
  ): Promise<PurchaseResponseDto> {
    assertServicePrincipal(user);
    return this.purchases.markPaid(actorOfCaller(user), id, body.providerPaymentId ?? null);
  }

  @ClosePurchaseRoute(':id/fail', 'failPurchase', 'The payment failed (service principals)')
  fail(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: ClosePurchaseDto,
  ): Promise<PurchaseResponseDto> {
    assertServicePrincipal(user);
    return this.purchases.close(actorOfCaller(user), id, 'failed', body.reason ?? null);
  }

  @ClosePurchaseRoute(':id/expire', 'expirePurchase', 'The checkout expired unpaid (service principals)')
  expire(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: ClosePurchaseDto,
  ): Promise<PurchaseResponseDto> {
    assertServicePrincipal(user);
    return this.purchases.close(actorOfCaller(user), id, 'expired', body.reason ?? null);
  }

  @IdempotentPost(':id/refunds')
  @Auth('admin')
  @ApiOperation({
    operationId: 'refundPurchase',
    summary: 'Refund credits of a purchase (admin)',
    description:
      'The credits leave the purchase’s allocation (a `refund` ledger entry); `purchase.refunded` tells the ' +
      'platform to pay `amount` back.',
  })
  @ApiBody({
    type: RefundPurchaseDto,
    required: false,
    examples: {
      some: { summary: '400 credits, with a reason', value: { credits: 400, reason: 'Customer asked' } },
      all: { summary: 'All that is refundable', value: {} },
    },
  })
  @PurchaseById()
  @ApiCreatedResponse({ type: RefundResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid body', type: ErrorResponseDto })
  @ApiConflictResponse({
    description: 'More credits than the allocation still has',
    type: RefundConflictResponseDto,
    examples: {
      exceeds: domainErrorExample(
        'REFUND_EXCEEDS_REFUNDABLE',
        'Only 600 credits of this purchase are refundable',
        'More than refundable',
        { refundableCredits: 600 },
      ),
    },
  })
  refund(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: RefundPurchaseDto,
  ): Promise<RefundResponseDto> {
    return this.refunds.refund(actorOfCaller(user), id, body);
  }

  @ServicePurchaseChange(
    ':id/provider-events',
    {
      operationId: 'purchaseProviderEvent',
      summary: 'What the payment provider reported: a refund, a dispute (service principals)',
      description:
        '`refunded` takes back ceil(credits × amountRefunded / amount) less what was taken back already (the ' +
        'spent part as debt); a repeated or lower cumulative amount changes nothing.',
    },
    {
      description: 'The purchase was never paid',
      examples: {
        notPaid: domainErrorExample(
          'PURCHASE_NOT_PAID',
          'The purchase is pending_payment: the provider has nothing to change',
          'An unpaid purchase',
        ),
      },
    },
  )
  @ApiBody({
    type: ProviderEventDto,
    examples: {
      refunded: { summary: 'The provider refunded 4.00 so far', value: { type: 'refunded', amountRefunded: '4.00' } },
      disputed: { summary: 'A dispute opened', value: { type: 'dispute_opened' } },
    },
  })
  providerEvent(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: ProviderEventDto,
  ): Promise<PurchaseResponseDto> {
    assertServicePrincipal(user);
    return this.refunds.providerEvent(actorOfCaller(user), id, body);
  }
}
