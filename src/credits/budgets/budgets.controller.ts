import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import type { ResolvedAccount } from '../../auth/account-access.js';
import {
  Auth,
  type BodyNamed,
  CurrentUser,
  NamedAccount,
  NamedErased,
  NamedInBody,
  OwnAccount,
  OwnWrite,
  type Taken,
} from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { domainErrorExample } from '../../common/errors/error-examples.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import type { CreateOutcome } from '../../idempotency/replayed-create.interceptor.js';
import {
  BudgetAccountQueryDto,
  BudgetIdParamDto,
  BudgetListResponseDto,
  BudgetResponseDto,
  CreateBudgetDto,
  ListBudgetsQueryDto,
  UpdateBudgetDto,
} from '../dto/budgets.dto.js';
import { BUDGET_READERS, BUDGET_SETTERS, CreditBudgetsService } from './credit-budgets.service.js';

const WHO =
  'Staff (supervisor and up), the user themself (a token, or a key with `credits:read`), or an organisation’s ' +
  'owners, admins and billing members. A budget of an erased user’s account → 409 ACCOUNT_ERASED.';

/** The budget routes that name one budget: ids are per account. */
const ONE_BUDGET =
  'A budgetId is its account’s own: staff name the account with `userId` or `orgId` (an id more than one ' +
  'account has, unnamed → 400); a user or key means its own account. Another account’s budget → 404, as a ' +
  'missing one.';

const CONFLICTS = {
  exists: domainErrorExample('BUDGET_EXISTS', 'Budget alpha-monthly exists with another body', 'Another body'),
  erased: domainErrorExample('ACCOUNT_ERASED', 'The account was erased', 'The account named was erased'),
};

@ApiTags('budgets')
@Controller('api/budgets')
export class BudgetsController {
  constructor(private readonly budgets: CreditBudgetsService) {}

  @IdempotentPost(undefined, { replays: true })
  @Auth('user', { scope: 'credits:read', body: BUDGET_SETTERS, own: 'account', ownOrNone: true })
  @ApiOperation({
    operationId: 'createBudget',
    summary: 'Cap what a project, tag, agent run or session of an account may spend',
    description:
      `${WHO} Staff name the account (userId or orgId, else 400); a user or key may leave it out for its own. ` +
      'A budgetId is the account’s own: another account may have one of the same id. ' +
      `The same budgetId with the same body again → 200 with the budget as it stands; another body → 409 ` +
      'BUDGET_EXISTS (also when the scope has a budget on the account). A parent belongs to the same account; a ' +
      'chain holds at most 5 budgets.',
  })
  @ApiBody({
    type: CreateBudgetDto,
    examples: {
      project: {
        summary: 'At most 50,000 credits a month for project alpha',
        value: {
          budgetId: 'alpha-monthly',
          userId: 'alice',
          scope: { kind: 'project', id: 'alpha' },
          limitCredits: 50000,
          period: 'month',
        },
      },
      run: {
        summary: 'An agent run under it, at most 2,000 credits',
        value: {
          budgetId: 'alpha-run-17',
          userId: 'alice',
          scope: { kind: 'run', id: 'r-17' },
          parentBudgetId: 'alpha-monthly',
          limitCredits: 2000,
        },
      },
    },
  })
  @ApiCreatedResponse({ type: BudgetResponseDto, description: 'Created' })
  @ApiOkResponse({
    type: BudgetResponseDto,
    description:
      'Replayed: the same budgetId and body again; the budget as it stands, nothing changed, with `Idempotent-Replayed: true`',
  })
  @ApiBadRequestResponse({
    description:
      'Invalid body (a limit beyond 2,147,483,647), staff naming no account, a parent of another account or none, ' +
      'or a chain of more than 5',
    type: ErrorResponseDto,
  })
  @ApiNotFoundOf('User', 'userId or orgId names an account the caller may not see')
  @ApiConflictResponse({ description: 'BUDGET_EXISTS or ACCOUNT_ERASED', type: ErrorResponseDto, examples: CONFLICTS })
  async create(
    @CurrentUser() caller: AuthUser,
    @Body() body: CreateBudgetDto,
    @NamedAccount() own: ResolvedAccount | null,
    @NamedInBody() inBody: BodyNamed,
    @NamedErased() erased: ReadonlySet<string>,
  ): Promise<CreateOutcome<BudgetResponseDto>> {
    const { budget, created } = await this.budgets.create(caller, body, own, inBody, erased);
    return { value: budget, replayed: !created };
  }

  @Get()
  @Auth('user', { scope: 'credits:read', account: BUDGET_READERS, portal: 'own', own: 'account' })
  @ApiOperation({
    operationId: 'listBudgets',
    summary: 'An account’s budgets by budgetId, with what each used and held in its period',
    description: `The caller’s own account, a user’s (userId) or an organisation’s (orgId). ${WHO}`,
  })
  @ApiOkResponse({ type: BudgetListResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid query or cursor', type: ErrorResponseDto })
  @ApiNotFoundOf('User', 'userId or orgId names an account the caller may not see')
  list(@Query() query: ListBudgetsQueryDto, @NamedAccount() account: ResolvedAccount): Promise<BudgetListResponseDto> {
    return this.budgets.list(account, query);
  }

  @Get(':budgetId')
  @Auth('user', { scope: 'credits:read', account: BUDGET_READERS, alsoOwn: true })
  @ApiOperation({
    operationId: 'getBudget',
    summary: 'A budget with what it used and held in its period',
    description: ONE_BUDGET,
  })
  @ApiOkResponse({ type: BudgetResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid budgetId or query; staff naming no account for an id more than one account has',
    type: ErrorResponseDto,
  })
  @ApiNotFoundOf('Budget', 'No such budget on the account, or an account the caller may not see')
  get(
    @CurrentUser() caller: AuthUser,
    @Param() params: BudgetIdParamDto,
    @Query() _query: BudgetAccountQueryDto,
    @NamedAccount() named: ResolvedAccount | null,
    @OwnAccount() own: ResolvedAccount | null,
  ): Promise<BudgetResponseDto> {
    return this.budgets.get(caller, { named, own }, params.budgetId);
  }

  @Patch(':budgetId')
  @Auth('user', { scope: 'credits:read', account: BUDGET_SETTERS, alsoOwn: true })
  @ApiOperation({
    operationId: 'updateBudget',
    summary: 'Change a budget’s limit or expiry',
    description: `${WHO} ${ONE_BUDGET} A raised limit admits the next write at once; a change never resets what was used.`,
  })
  @ApiBody({
    type: UpdateBudgetDto,
    examples: {
      raise: { summary: 'Raise the limit to 80,000 credits', value: { limitCredits: 80000 } },
      expire: { summary: 'Let it expire at the end of the year', value: { expiresAt: '2099-12-31T00:00:00Z' } },
    },
  })
  @ApiOkResponse({ type: BudgetResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body or query; staff naming no account for an id more than one account has',
    type: ErrorResponseDto,
  })
  @ApiNotFoundOf('Budget', 'No such budget on the account, or an account the caller may not see')
  @ApiConflictResponse({
    description: 'ACCOUNT_ERASED',
    type: ErrorResponseDto,
    examples: { erased: CONFLICTS.erased },
  })
  update(
    @CurrentUser() caller: AuthUser,
    @Param() params: BudgetIdParamDto,
    @Query() _query: BudgetAccountQueryDto,
    @NamedAccount() named: ResolvedAccount | null,
    @OwnAccount() own: ResolvedAccount | null,
    @OwnWrite() ownWrite: Taken<ResolvedAccount | null>,
    @Body() body: UpdateBudgetDto,
  ): Promise<BudgetResponseDto> {
    return this.budgets.update(caller, { named, own, ownWrite }, params.budgetId, body);
  }

  @Delete(':budgetId')
  @HttpCode(204)
  @Auth('user', { scope: 'credits:read', account: BUDGET_SETTERS, alsoOwn: true })
  @ApiOperation({
    operationId: 'deleteBudget',
    summary: 'Delete a budget (its children keep no parent)',
    description: `${WHO} ${ONE_BUDGET}`,
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiBadRequestResponse({
    description: 'Invalid budgetId or query; staff naming no account for an id more than one account has',
    type: ErrorResponseDto,
  })
  @ApiNotFoundOf('Budget', 'No such budget on the account, or an account the caller may not see')
  @ApiConflictResponse({
    description: 'ACCOUNT_ERASED',
    type: ErrorResponseDto,
    examples: { erased: CONFLICTS.erased },
  })
  async delete(
    @CurrentUser() caller: AuthUser,
    @Param() params: BudgetIdParamDto,
    @Query() _query: BudgetAccountQueryDto,
    @NamedAccount() named: ResolvedAccount | null,
    @OwnAccount() own: ResolvedAccount | null,
    @OwnWrite() ownWrite: Taken<ResolvedAccount | null>,
  ): Promise<void> {
    await this.budgets.delete(caller, { named, own, ownWrite }, params.budgetId);
  }
}
