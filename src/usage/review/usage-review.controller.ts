import { Body, Controller, HttpCode, Param } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { Auth, CurrentUser } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { domainErrorExample } from '../../common/errors/error-examples.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { ApiNotFoundOf } from '../../common/errors/not-found.decorator.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import { ResolveRecordDto, ReviewItemDto } from '../dto/review.dto.js';
import { UsageReviewService } from './usage-review.service.js';

/**
 * A shortfall resolved on its record (`POST /api/usage/records/:id/resolve`): written off, or collected
 * now. The queue that lists them is the credits tenants' route (`GET /api/credits/review`).
 */
@ApiTags('credits')
@Controller('api')
export class UsageReviewController {
  constructor(private readonly review: UsageReviewService) {}

  @IdempotentPost('usage/records/:id/resolve')
  @HttpCode(200)
  @Auth('admin')
  @ApiOperation({
    operationId: 'resolveUsageRecord',
    summary: 'Resolve a shortfall: write it off, or collect it now (admin)',
    description:
      'collect takes the shortfall from the balance now; what the balance cannot pay becomes debt, whatever the ' +
      'overdraft limit. Both mark the record resolved with who and when. Resolving twice is a 409.',
  })
  @ApiParam({ name: 'id', format: 'uuid', example: '6a1f2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b' })
  @ApiBody({
    type: ResolveRecordDto,
    examples: {
      collect: { summary: 'Collect the shortfall now', value: { action: 'collect', note: 'Agreed with the customer' } },
      writeOff: { summary: 'Forgive it', value: { action: 'write_off' } },
    },
  })
  @ApiOkResponse({ type: ReviewItemDto })
  @ApiNotFoundOf('Usage record', 'Unknown usage record')
  @ApiConflictResponse({
    description: 'Resolved already, or nothing to review',
    type: ErrorResponseDto,
    examples: {
      resolved: domainErrorExample('REVIEW_ALREADY_RESOLVED', 'This record was resolved already', 'Resolved already'),
      nothing: domainErrorExample('REVIEW_NOT_OPEN', 'This record has nothing to review', 'No shortfall to review'),
    },
  })
  resolve(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: ResolveRecordDto,
  ): Promise<ReviewItemDto> {
    return this.review.resolve(user, id, body);
  }
}
