import { Body, Controller, Inject, Put } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { Auth, type BodyNamed, NamedInBody } from '../auth/auth.decorator.js';
import { domainErrorExample } from '../common/errors/error-examples.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../common/errors/not-found.decorator.js';
import { BILLING_DESK, BILLING_SETTERS, type BillingDesk } from './billing-desk.js';
import { BillingCurrencyResponseDto, PutBillingCurrencyDto } from './dto/billing-currency.dto.js';

@ApiTags('accounts')
@Controller('api/accounts')
export class BillingCurrencyController {
  constructor(@Inject(BILLING_DESK) private readonly billing: BillingDesk) {}

  @Put('billing-currency')
  @Auth('admin', { body: BILLING_SETTERS })
  @ApiOperation({
    operationId: 'setBillingCurrency',
    summary: 'Set the currency an account pays in (admin)',
    description:
      'Purchases, auto-recharge and subscriptions of the account pay in it from now on; one in another ' +
      'currency → 409 CURRENCY_MISMATCH. Audited `account.billing_currency`.',
  })
  @ApiBody({
    type: PutBillingCurrencyDto,
    examples: {
      user: { summary: 'A user pays in dollars', value: { userId: 'alice', currency: 'usd' } },
      org: { summary: 'An organisation pays in yen', value: { orgId: 'acme', currency: 'jpy' } },
    },
  })
  @ApiOkResponse({ type: BillingCurrencyResponseDto })
  @ApiNotFoundOf('User', 'Unknown user or organisation')
  @ApiConflictResponse({
    description: 'The account’s plan has no price in the currency: `code` CURRENCY_MISMATCH',
    type: ErrorResponseDto,
    examples: {
      mismatch: domainErrorExample(
        'CURRENCY_MISMATCH',
        'The account’s plan pro has no price in eur',
        'A plan without it',
      ),
    },
  })
  put(@Body() body: PutBillingCurrencyDto, @NamedInBody() account: BodyNamed): Promise<BillingCurrencyResponseDto> {
    return this.billing.put(body, account);
  }
}
