import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { existingUser, type ResolvedAccount } from '../../auth/account-access.js';
import { NamedAccount } from '../../auth/auth.decorator.js';
import { StaffUserRoute } from '../../auth/staff-user-route.decorator.js';
import {
  AlertThresholdsResponseDto,
  CreditLimitsResponseDto,
  PutAlertThresholdsDto,
  PutCreditLimitsDto,
} from '../dto/limits.dto.js';
import { CreditLimitsService } from './credit-limits.service.js';

@ApiTags('credits')
@Controller('api/credits')
export class CreditLimitsController {
  constructor(private readonly limits: CreditLimitsService) {}

  @Put('limits/:userId')
  @StaffUserRoute('admin')
  @ApiOperation({
    operationId: 'setCreditLimits',
    summary: 'Set a user’s overdraft and hourly spend limit (admin)',
    description: 'Fields left out keep their value; maxCreditsPerHour null returns to SPEND_RATE_LIMIT_PER_HOUR.',
  })
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
  put(
    @Param('userId') _userId: string,
    @Body() body: PutCreditLimitsDto,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<CreditLimitsResponseDto> {
    return this.limits.put(existingUser(account), body);
  }

  @Get('limits/:userId')
  @StaffUserRoute('supervisor')
  @ApiOperation({
    operationId: 'getCreditLimits',
    summary: 'A user’s overdraft, hourly spend limit and debt (supervisor)',
  })
  @ApiOkResponse({ type: CreditLimitsResponseDto })
  get(
    @Param('userId') _userId: string,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<CreditLimitsResponseDto> {
    return this.limits.get(existingUser(account));
  }

  @Get('alerts/:userId')
  @StaffUserRoute('supervisor')
  @ApiOperation({
    operationId: 'getAlertThresholds',
    summary: 'A user’s low-balance alert thresholds in force (supervisor)',
    description: 'Their own when set (`source: user`), else LOW_BALANCE_THRESHOLDS (`source: default`).',
  })
  @ApiOkResponse({ type: AlertThresholdsResponseDto })
  getAlerts(
    @Param('userId') _userId: string,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<AlertThresholdsResponseDto> {
    return this.limits.getAlerts(existingUser(account));
  }

  @Put('alerts/:userId')
  @StaffUserRoute('supervisor')
  @ApiOperation({
    operationId: 'setAlertThresholds',
    summary: 'Set a user’s low-balance alert thresholds (supervisor)',
    description: 'Replaces LOW_BALANCE_THRESHOLDS for that user; an empty list turns balance.low off for them.',
  })
  @ApiBody({
    type: PutAlertThresholdsDto,
    examples: {
      two: { summary: 'Tell at 1,000 and at 100 credits', value: { thresholds: [1000, 100] } },
      none: { summary: 'No low-balance alerts for this user', value: { thresholds: [] } },
    },
  })
  @ApiOkResponse({ type: AlertThresholdsResponseDto })
  putAlerts(
    @Param('userId') _userId: string,
    @Body() body: PutAlertThresholdsDto,
    @NamedAccount() account: ResolvedAccount | null,
  ): Promise<AlertThresholdsResponseDto> {
    return this.limits.putAlerts(existingUser(account), body.thresholds);
  }
}
