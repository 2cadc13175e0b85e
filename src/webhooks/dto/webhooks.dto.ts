import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsString,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';

import { PageQueryDto, PageResponseDto } from '../../common/http/pagination.js';
import { ApiInteger } from '../../common/validation/integers.js';
import { IsOptional } from '../../common/validation/optional.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../events/entities/webhook-delivery.entity.js';
import { EVENT_TYPES } from '../../events/event-types.js';

export const SUBSCRIBABLE = [...EVENT_TYPES, '*'] as const;

const URL_DOC =
  'https URL resolving to a public address (checked now and at every connection); http and private or ' +
  'loopback addresses only with WEBHOOK_ALLOW_PRIVATE_URLS=true';
const EVENTS_DOC = 'Event types to receive, or ["*"] for every type';

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://example.com/webhooks/accounting', maxLength: 2048, description: URL_DOC })
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url: string;

  @ApiProperty({
    enum: SUBSCRIBABLE,
    isArray: true,
    example: ['balance.low', 'credits.granted'],
    description: EVENTS_DOC,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE, { each: true })
  events: string[];

  @ApiPropertyOptional({ example: 'Billing alerts for the ops channel', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ example: 'https://example.com/webhooks/accounting-v2', maxLength: 2048, description: URL_DOC })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ enum: SUBSCRIBABLE, isArray: true, example: ['*'], description: EVENTS_DOC })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE, { each: true })
  events?: string[];

  @ApiPropertyOptional({ type: String, nullable: true, example: 'Ops alerts', maxLength: 500 })
  @ValidateIf((_o, v) => v !== undefined && v !== null)
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({
    example: true,
    description: 'false pauses the endpoint (its pending deliveries fail); true re-enables a disabled one',
  })
  @IsOptional()
  @IsBoolean()
  isActive?: boolean;
}

export class WebhookResponseDto {
  @ApiProperty({ example: '0b8f3c1e-5d2a-4f7b-9e61-2c4d8a9b7f10', format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'https://example.com/webhooks/accounting' })
  url: string;

  @ApiProperty({ enum: SUBSCRIBABLE, isArray: true, example: ['balance.low', 'credits.granted'] })
  events: string[];

  @ApiProperty({ type: String, nullable: true, example: 'Billing alerts for the ops channel' })
  description: string | null;

  @ApiProperty({ example: true })
  isActive: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      'Why the service disabled the endpoint (every attempt failed for 3 days); null when active or paused by an admin',
  })
  disabledReason: string | null;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  updatedAt: string;
}

export class CreatedWebhookResponseDto extends WebhookResponseDto {
  @ApiProperty({
    example: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD/yG0ePp0Qaw=',
    description:
      'The signing secret (`whsec_` + base64 of 32 random bytes). Shown only in this response: store it now. ' +
      'An idempotent replay of this request answers without it.',
  })
  secret: string;
}

export class RotatedSecretResponseDto {
  @ApiProperty({ example: '0b8f3c1e-5d2a-4f7b-9e61-2c4d8a9b7f10', format: 'uuid' })
  id: string;

  @ApiProperty({
    example: 'whsec_B61QU48gXZ9Ba0CqflsjrcYA5WHZupxIEykbrK5znVU=',
    description: 'The new secret, shown only here',
  })
  secret: string;

  @ApiProperty({
    example: '2026-11-22T12:00:00.000Z',
    description: 'Until then every delivery is signed with both secrets (two v1 signatures)',
  })
  previousSecretExpiresAt: string;
}

export class WebhookListResponseDto extends PageResponseDto(WebhookResponseDto) {}

export class DeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES, example: 'failed' })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}

export class DeliveryResponseDto {
  @ApiProperty({ example: '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f', format: 'uuid', description: 'For the retry route' })
  id: string;

  @ApiProperty({
    example: '3f6a9c2e-1b4d-4e8f-a7c5-9d0e2f4b6a81',
    format: 'uuid',
    description: 'The webhook-id header',
  })
  eventId: string;

  @ApiProperty({ example: 'balance.low' })
  type: string;

  @ApiProperty({ enum: DELIVERY_STATUSES, example: 'succeeded' })
  status: DeliveryStatus;

  @ApiInteger({ example: 1 })
  attempts: number;

  @ApiInteger({ nullable: true, example: 200 })
  lastStatusCode: number | null;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'Why the last attempt failed' })
  lastError: string | null;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'While pending: the next attempt' })
  nextAttemptAt: string | null;

  @ApiProperty({ example: '2026-11-21T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: String, nullable: true, example: '2026-11-21T12:00:00.412Z' })
  deliveredAt: string | null;
}

export class DeliveryListResponseDto extends PageResponseDto(DeliveryResponseDto) {}

export class AcceptedTestResponseDto {
  @ApiProperty({ example: '3f6a9c2e-1b4d-4e8f-a7c5-9d0e2f4b6a81', format: 'uuid', description: 'The event sent' })
  eventId: string;
}

export class AcceptedRetryResponseDto {
  @ApiProperty({ example: '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f', format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'pending' })
  status: 'pending';
}
