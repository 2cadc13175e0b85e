import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';

import { StaffRead } from '../../auth/staff-read.decorator.js';
import { ReviewListResponseDto, ReviewQueryDto } from '../dto/review.dto.js';
import { UsageReviewService } from './usage-review.service.js';

/**
 * The review queue (`GET /api/credits/review`, docs/credits.md): the usage module's shortfalls to
 * resolve and the accounts with debt, read through its review service. A shortfall is resolved on its
 * record (`POST /api/usage/records/:id/resolve`, the usage module's).
 */
@ApiTags('credits')
@Controller('api/credits')
export class ReviewQueueController {
  constructor(private readonly review: UsageReviewService) {}

  @Get('review')
  @StaffRead(
    'admin',
    ReviewListResponseDto,
    'listReviewQueue',
    'The review queue: shortfalls to resolve and accounts (users and organisations) with debt (admin)',
    'status=open (default) lists what waits for a person; resolved lists what was decided, and by whom.',
  )
  list(@Query() query: ReviewQueryDto): Promise<ReviewListResponseDto> {
    return this.review.list(query);
  }
}
