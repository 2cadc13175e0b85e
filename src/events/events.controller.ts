import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiTags } from '@nestjs/swagger';

import { StaffRead } from '../auth/staff-read.decorator.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { DEFAULT_LIMIT } from '../common/http/pagination.js';
import { EventListResponseDto, EventsQueryDto } from './dto/events.dto.js';
import { EventsService } from './events.service.js';

@ApiTags('webhooks')
@Controller('api/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @StaffRead(
    'admin',
    EventListResponseDto,
    'listEvents',
    'Every event emitted, newest first',
    'The same `{id, type, createdAt, data}` the webhooks deliver, whether or not any endpoint got it.',
  )
  @ApiBadRequestResponse({ description: 'Invalid query or cursor', type: ErrorResponseDto })
  list(@Query() query: EventsQueryDto): Promise<EventListResponseDto> {
    return this.events.list(query, query.limit ?? DEFAULT_LIMIT);
  }
}
