import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBody, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';

import { Auth } from '../auth/auth.decorator.js';
import { notFoundExample } from '../common/errors/error-examples.js';
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
  @Auth('admin', { account: { user: 'staff' } })
  @ApiOperation({
    operationId: 'setCreditLimits',
    summary: 'Set a user’s overdraft and hourly spend limit (admin)',
    description: 'Fields left out keep their value; maxCreditsPerHour null returns to SPEND_RATE_LIMIT_PER_HOUR.',
  })
  @ApiParam({ name: 'userId', example: 'alice' })
  @ApiBody({
    type: PutCreditLimitsDto,
    examples: {
      overdraft: { summary: 'Allow 500 credits of debt', value: { overdraftLimit: 500 } },
      hourly: { summary: 'At most 2,000 credits in any hour', value: { maxCreditsPerHour: 2000 } },
      backToDefault: {
        summary: 'No overdraft; the hourly limit back to SPEND_RATE_LIMIT_PER_HOUR',
        value: { overdraftLimit: 0, maxCreditsPerHour: null },
      },
    },
  })
  @ApiOkResponse({ type: CreditLimitsResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown user', type: ErrorResponseDto, examples: notFoundExample('User') })
  put(@Param('userId') userId: string, @Body() body: PutCreditLimitsDto): Promise<CreditLimitsResponseDto> {
    return this.limits.put(userId, body);
  }

  @Get('limits/:userId')
  @Auth('supervisor', { account: { user: 'staff' } })
  @ApiOperation({
    operationId: 'getCreditLimits',
    summary: 'A user’s overdraft, hourly spend limit and debt (supervisor)',
  })
  @ApiParam({ name: 'userId', example: 'alice' })
  @ApiOkResponse({ type: CreditLimitsResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown user', type: ErrorResponseDto, examples: notFoundExample('User') })
  get(@Param('userId') userId: string): Promise<CreditLimitsResponseDto> {
    return this.limits.get(userId);
  }

  @Get('alerts/:userId')
  @Auth('supervisor', { account: { user: 'staff' } })
  @ApiOperation({
    operationId: 'getAlertThresholds',
    summary: 'A user’s low-balance alert thresholds in force (supervisor)',
    description: 'Their own when set (`source: user`), else LOW_BALANCE_THRESHOLDS (`source: default`).',
  })
  @ApiParam({ name: 'userId', example: 'alice' })
  @ApiOkResponse({ type: AlertThresholdsResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown user', type: ErrorResponseDto, examples: notFoundExample('User') })
  getAlerts(@Param('userId') userId: string): Promise<AlertThresholdsResponseDto> {
    return this.limits.getAlerts(userId);
  }

  @Put('alerts/:userId')
  @Auth('supervisor', { account: { user: 'staff' } })
  @ApiOperation({
    operationId: 'setAlertThresholds',
    summary: 'Set a user’s low-balance alert thresholds (supervisor)',
    description: 'Replaces LOW_BALANCE_THRESHOLDS for that user; an empty list turns balance.low off for them.',
  })
  @ApiParam({ name: 'userId', example: 'alice' })
  @ApiBody({
    type: PutAlertThresholdsDto,
    examples: {
      two: { summary: 'Tell at 1,000 and at 100 credits', value: { thresholds: [1000, 100] } },
      none: { summary: 'No low-balance alerts for this user', value: { thresholds: [] } },
    },
  })
  @ApiOkResponse({ type: AlertThresholdsResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown user', type: ErrorResponseDto, examples: notFoundExample('User') })
  putAlerts(@Param('userId') userId: string, @Body() body: PutAlertThresholdsDto): Promise<AlertThresholdsResponseDto> {
    return this.limits.putAlerts(userId, body.thresholds);
  }
}
