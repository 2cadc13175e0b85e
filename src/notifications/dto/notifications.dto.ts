import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsObject, ValidateNested } from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { IsUserId } from '../../common/validation/ids.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { EMAIL_KINDS } from '../email-kinds.js';
import { EMAIL_STATUSES, type EmailStatus } from '../entities/email-notification.entity.js';

/** One switch per kind of email; a kind left out of a PUT keeps its setting. */
export class EmailPreferencesDto {
  @ApiPropertyOptional({ example: true }) @IsOptional() @IsBoolean() 'credits.expiring'?: boolean;
  @ApiPropertyOptional({ example: false }) @IsOptional() @IsBoolean() 'balance.low'?: boolean;
  @ApiPropertyOptional({ example: true }) @IsOptional() @IsBoolean() 'balance.depleted'?: boolean;
  @ApiPropertyOptional({ example: true }) @IsOptional() @IsBoolean() 'purchase.paid'?: boolean;
  @ApiPropertyOptional({ example: true }) @IsOptional() @IsBoolean() 'purchase.refunded'?: boolean;
  @ApiPropertyOptional({ example: true }) @IsOptional() @IsBoolean() 'promotion.redeemed'?: boolean;
  @ApiPropertyOptional({ example: true }) @IsOptional() @IsBoolean() 'auto_recharge.disabled'?: boolean;
  @ApiPropertyOptional({ example: true }) @IsOptional() @IsBoolean() 'org.member_limit_reached'?: boolean;
  @ApiPropertyOptional({ example: true }) @IsOptional() @IsBoolean() 'feature.limit_reached'?: boolean;
  @ApiPropertyOptional({ example: true }) @IsOptional() @IsBoolean() 'credits.runway'?: boolean;
  @ApiPropertyOptional({ example: true }) @IsOptional() @IsBoolean() 'budget.reached'?: boolean;
}

export class PutPreferencesDto {
  @ApiProperty({
    type: EmailPreferencesDto,
    description: 'Kinds of email turned on (true) or off (false); kinds left out keep their setting',
    example: { 'balance.low': false },
  })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => EmailPreferencesDto)
  email: EmailPreferencesDto;
}

export class PreferencesResponseDto {
  @ApiProperty({
    type: EmailPreferencesDto,
    description: 'Every kind of email and whether this user receives it (default true)',
    example: Object.fromEntries(EMAIL_KINDS.map((k) => [k, k !== 'balance.low'])),
  })
  email: Record<string, boolean>;
}

export class NotificationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'bob', maxLength: 50 })
  @IsOptional()
  @IsUserId()
  userId?: string;

  @ApiPropertyOptional({ enum: EMAIL_STATUSES, example: 'sent' })
  @IsOptional()
  @IsIn(EMAIL_STATUSES)
  status?: EmailStatus;
}

export class NotificationResponseDto {
  @ApiProperty({ format: 'uuid', example: '0193a5c2-7e41-7b9a-8c3d-2f1e4a6b8c9d' })
  id: string;

  @ApiProperty({ example: 'bob', description: 'The recipient' })
  userId: string;

  @ApiProperty({ enum: EMAIL_KINDS, example: 'credits.expiring', description: 'The event type it tells of' })
  kind: string;

  @ApiProperty({ type: String, nullable: true, example: 'bob@example.com', description: 'Null until made' })
  to: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Accounting: 500 credits expire 2026-12-01 12:00 UTC' })
  subject: string | null;

  @ApiProperty({
    enum: EMAIL_STATUSES,
    example: 'sent',
    description:
      'pending (to be sent or retried), sent, failed (no address, or 3 days of failed attempts), suppressed ' +
      '(the user turned the kind off), kept (no SMTP_URL: made, not sent)',
  })
  status: EmailStatus;

  @ApiInteger({ example: 1 })
  attempts: number;

  @ApiProperty({ example: '2026-11-24T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: String, nullable: true, example: '2026-11-24T12:00:01.000Z' })
  sentAt: string | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  lastError: string | null;
}

export class NotificationListResponseDto extends PageResponseDto(NotificationResponseDto) {}

export class NotificationDetailResponseDto extends NotificationResponseDto {
  @ApiProperty({ type: String, nullable: true, example: 'Hello bob,\n\n500 credits of your account…' })
  text: string | null;

  @ApiProperty({ type: String, nullable: true, example: '<!doctype html><html lang="en">…</html>' })
  html: string | null;
}

export class UnsubscribedResponseDto {
  @ApiProperty({ example: 'bob' })
  userId: string;

  @ApiProperty({ enum: EMAIL_KINDS, example: 'balance.low' })
  kind: string;

  @ApiProperty({ example: false })
  email: boolean;
}
