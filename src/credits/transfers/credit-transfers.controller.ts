import { Body, Controller, Get, Inject, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPaymentRequiredResponse,
  ApiTags,
} from '@nestjs/swagger';

import { SELF_GRANT_MESSAGES, selfGrantForbiddenExamples } from '../../auth/access.js';
import type { ResolvedAccount } from '../../auth/account-access.js';
import { Auth, CurrentUser, NamedAccount, SidesInBody, type Taken } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import {
  domainErrorExample,
  insufficientCreditsExample,
  type NamedExamples,
} from '../../common/errors/error-examples.js';
import {
  ErrorResponseDto,
  ForbiddenResponseDto,
  InsufficientCreditsResponseDto,
} from '../../common/errors/error-response.dto.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import {
  CreateTransferDto,
  ListTransfersQueryDto,
  TransferListResponseDto,
  TransferResponseDto,
} from '../dto/transfers.dto.js';
import { CreditTransfersService } from './credit-transfers.service.js';

const notFound: NamedExamples = {
  unknownUser: domainErrorExample('NOT_FOUND', 'User not found', 'Unknown user'),
  unknownOrg: domainErrorExample('NOT_FOUND', 'Org not found', 'Unknown organisation'),
};

@ApiTags('credits')
@Controller('api/credits')
export class CreditTransfersController {
  constructor(@Inject(CreditTransfersService) private readonly transfers: CreditTransfersService) {}

  @IdempotentPost('transfers')
  @Auth('supervisor', { sides: ['from', 'to'] })
  @ApiOperation({
    operationId: 'transferCredits',
    summary: 'Move credits from one account to another, keeping their expiry (supervisor)',
    description:
      'The credits leave the source soonest-expiring first, from what it may spend (held credits and the ' +
      'overdraft never move), and arrive as allocations with the same expiry dates (`source: transfer`), one per ' +
      'lot, through `transfer_out` / `transfer_in` ledger entries. Short → 402 and nothing moves. A supervisor ' +
      'may not transfer into their own account or into an organisation they are an active member of (403 ' +
      'SELF_GRANT_FORBIDDEN); an admin may.',
  })
  @ApiBody({
    type: CreateTransferDto,
    examples: {
      userToOrg: {
        summary: 'From a user to an organisation',
        value: { from: { userId: 'alice' }, to: { orgId: 'acme' }, credits: 300, reason: 'Team budget for December' },
      },
      orgToUser: {
        summary: 'From an organisation to a user',
        value: { from: { orgId: 'acme' }, to: { userId: 'bob' }, credits: 50 },
      },
    },
  })
  @ApiCreatedResponse({ type: TransferResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body: not exactly one of userId and orgId per side, the same account twice, credits < 1…',
    type: ErrorResponseDto,
    examples: {
      sameAccount: domainErrorExample('VALIDATION', 'from and to must be different accounts', 'The same account twice'),
    },
  })
  @ApiNotFoundResponse({
    description: 'Unknown user',
    type: ErrorResponseDto,
    examples: { unknownUser: notFound.unknownUser },
  })
  @ApiPaymentRequiredResponse({
    description: 'The source cannot spend that many credits now (INSUFFICIENT_CREDITS); nothing moved',
    type: InsufficientCreditsResponseDto,
    examples: insufficientCreditsExample,
  })
  @ApiForbiddenResponse({
    description:
      'A supervisor naming their own account or an organisation they are a member of as `to`: `code` ' +
      'SELF_GRANT_FORBIDDEN, nothing written (separation of duties; admins may); an organisation that does not ' +
      'exist: `code` NOT_A_MEMBER, as for any write naming an org',
    type: ForbiddenResponseDto,
    examples: {
      ...selfGrantForbiddenExamples('transfer'),
      unknownOrg: domainErrorExample(
        'NOT_A_MEMBER',
        'sup-ada is not an active member of organisation acme',
        'An organisation that does not exist (the same answer as to a non-member)',
        { orgId: 'acme' },
      ),
      selfGrantOrg: domainErrorExample(
        'SELF_GRANT_FORBIDDEN',
        SELF_GRANT_MESSAGES.transferToOrg,
        'A supervisor naming an organisation they are a member of (admins may)',
      ),
    },
  })
  transfer(
    @CurrentUser() user: AuthUser,
    @Body() body: CreateTransferDto,
    @SidesInBody() side: (name: 'from' | 'to') => Taken<ResolvedAccount | null>,
  ): Promise<TransferResponseDto> {
    return this.transfers.transfer(user, body, side);
  }

  @Get('transfers')
  @Auth('supervisor', { account: { user: 'staff', org: 'staff' } })
  @ApiOperation({
    operationId: 'listTransfers',
    summary: 'An account’s transfers, in and out, newest first (supervisor)',
    description: 'At most one of `userId` and `orgId`; neither lists every transfer.',
  })
  @ApiOkResponse({ type: TransferListResponseDto })
  @ApiBadRequestResponse({ description: 'Both userId and orgId; a bad cursor or limit', type: ErrorResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown user or organisation', type: ErrorResponseDto, examples: notFound })
  list(
    @Query() query: ListTransfersQueryDto,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<TransferListResponseDto> {
    return this.transfers.list(query, account);
  }
}
