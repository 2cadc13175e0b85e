import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { Auth } from '../auth/auth.decorator.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { CreditLimitsService } from './credit-limits.service.js';
import {
  AlertThresholdsResponseDto,
  CreditLimitsResponseDto,
  PutAlertThresholdsDto,
  PutCreditLimitsDto,
} from './dto/limits.dto.js';

@ApiTags('credits')
@Controller('api/credits')
export class CreditLimitsController {
  constructor(private readonly limits: CreditLimitsService) {}

  @Put('limits/:userId')
  @Auth('admin')
  @ApiOperation({
    summary: 'Set a user’s overdraft and hourly spend limit (admin)',
    description: 'Fields left out keep their value; maxCreditsPerHour null returns to SPEND_RATE_LIMIT_PER_HOUR.',
  })
  @ApiParam({ name: 'userId', example: 'bob' })
  @ApiOkResponse({ type: CreditLimitsResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown user', type: ErrorResponseDto })
  put(@Param('userId') userId: string, @Body() body: PutCreditLimitsDto): Promise<CreditLimitsResponseDto> {
    return this.limits.put(userId, body);
  }

  @Get('limits/:userId')
  @Auth('supervisor')
  @ApiOperation({ summary: 'A user’s overdraft, hourly spend limit and debt (supervisor)' })
  @ApiParam({ name: 'userId', example: 'bob' })
  @ApiOkResponse({ type: CreditLimitsResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown user', type: ErrorResponseDto })
  get(@Param('userId') userId: string): Promise<CreditLimitsResponseDto> {
    return this.limits.get(userId);
  }

  @Put('alerts/:userId')
  @Auth('supervisor')
  @ApiOperation({
    summary: 'Set a user’s low-balance alert thresholds (supervisor)',
    description: 'Replaces LOW_BALANCE_THRESHOLDS for that user; an empty list turns balance.low off for them.',
  })
  @ApiParam({ name: 'userId', example: 'bob' })
  @ApiOkResponse({ type: AlertThresholdsResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown user', type: ErrorResponseDto })
  putAlerts(@Param('userId') userId: string, @Body() body: PutAlertThresholdsDto): Promise<AlertThresholdsResponseDto> {
    return this.limits.putAlerts(userId, body.thresholds);
  }
}
